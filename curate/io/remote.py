"""Inputs at fsspec URLs (``s3://``, ``gs://``, ``memory://``, ``file://``, ``zip::...`` chains).

A URL names a file, a folder (walked like a local one: sorted, hidden entries skipped, a run
folder covers its ``data.parquet``) or a glob (``s3://bucket/shards/*.parquet``). Each file is a
:class:`RemoteFile`: it shows as its URL without credentials (``user:pass@`` and query strings
such as tokens are dropped), and is downloaded once per process into a temporary folder (hashed
while it downloads), so the readers, the manifest's sha256 and the converter read the same bytes
through the same code as a local file. Credentials and options come from fsspec's own
configuration (``FSSPEC_<PROTOCOL>_<OPTION>`` variables, ``~/.config/fsspec/``) or the
backend's usual environment (``AWS_*``, ``GOOGLE_APPLICATION_CREDENTIALS``, ...).

Examples:
    ```python
    from curate.io.remote import is_url, redact, list_files

    is_url("s3://bucket/data.parquet")                 # True
    redact("https://user:pw@host/a.jsonl?token=x")     # 'https://host/a.jsonl'
    files = list_files("memory://corpus", readable=lambda name: name.endswith(".jsonl"))
    ```
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import posixpath
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

from ..errors import CurateError, InputError
from .layout import RUN_LAYOUT

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*(://|::)")
_GLOB = re.compile(r"[*\[]|\?(?![^/]*=)")  # a "?" before "key=value" is a query, not a glob
_VERSION_KEYS = ("ETag", "etag", "md5Hash", "generation", "mtime", "LastModified",
                 "last_modified", "created")


def is_url(path: Any) -> bool:
    """Whether ``path`` is an fsspec URL (``scheme://...`` or a ``proto::...`` chain)."""
    return isinstance(path, str) and bool(_URL.match(path))


def redact(url: str) -> str:
    """``url`` without credentials: no ``user:password@`` and no ``?key=value`` query (tokens,
    signatures) in any link of a chain."""
    links = []
    for link in url.split("::"):
        if "://" not in link:
            links.append(link)
            continue
        parts = urlsplit(link)
        netloc = parts.netloc.rpartition("@")[2]
        query = "" if "=" in parts.query else parts.query
        if (netloc, query, parts.fragment) == (parts.netloc, parts.query, ""):
            links.append(link)  # nothing to hide: keep the text exactly as given
        else:
            links.append(urlunsplit((parts.scheme, netloc, parts.path, query, "")))
    return "::".join(links)


def open_url(url: str) -> tuple[Any, str]:
    """The fsspec file system and path of ``url``; a CurateError names a protocol that is
    unknown or whose package is missing."""
    from fsspec.core import url_to_fs  # startup

    try:
        return url_to_fs(url)
    except ImportError as exc:
        raise CurateError(f"{redact(url)}: {exc} (the package of this protocol is not "
                          "installed)") from None
    except FileNotFoundError:  # a chain (zip::...) opens its target file at once
        raise InputError("no such file or folder", file=redact(url)) from None
    except (ValueError, TypeError) as exc:
        raise CurateError(f"{redact(url)}: not a usable fsspec URL: {exc}") from None
    except Exception as exc:  # the backend's own errors (credentials, network)
        raise CurateError(f"{redact(url)}: cannot open: {type(exc).__name__}: {exc}") from None


def protocols(fs) -> tuple[str, ...]:
    """The protocol names of an fsspec file system."""
    return fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)


def join(url: str, rel: str) -> str:
    """``url`` (its first link, for a chain) followed by the relative path ``rel``."""
    if not rel:
        return url
    links = url.split("::")
    head = links[0]
    if "://" not in head:
        links[0] = f"{head}://{rel}"
    else:
        links[0] = head + rel if head.endswith("://") else head.rstrip("/") + "/" + rel
    return "::".join(links)


def relative(path: str, root: str) -> str:
    """``path`` relative to the folder ``root`` ("" for the folder itself)."""
    root, path = root.rstrip("/"), path.rstrip("/")
    if path == root:
        return ""
    if not root:
        return path.lstrip("/")
    return path[len(root) + 1:] if path.startswith(root + "/") else path


def _version(info: dict) -> str:
    return json.dumps([info.get("size")] + [str(info.get(k)) for k in _VERSION_KEYS if k in info])


@dataclass(eq=False)
class RemoteFile:
    """A file at a URL, in the shape the readers take from a local ``Path``: ``name``,
    ``is_file()``, ``is_dir()``; ``str()`` is the URL without credentials. :meth:`local`
    is the downloaded copy the readers open."""

    fs: Any
    path: str
    url: str
    info: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The file's name (without a ``?key=value`` query)."""
        path = self.path.rstrip("/")
        head, _, query = path.rpartition("?")
        return posixpath.basename(head if head and "=" in query else path)

    def is_file(self) -> bool:
        return True

    def is_dir(self) -> bool:
        return False

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"RemoteFile({self.url!r})"

    def local(self) -> Path:
        """The local copy (downloaded on first use, once per process and file version)."""
        return _fetch(self)[0]

    @property
    def sha256(self) -> str:
        return _fetch(self)[1]

    @property
    def size(self) -> int:
        return self.local().stat().st_size


def local_path(path):
    """The local file a reader opens: ``path`` itself, or a RemoteFile's downloaded copy."""
    return path.local() if isinstance(path, RemoteFile) else path


_FETCHED: dict[str, tuple[str, Path, str]] = {}  # file key -> (version, local copy, sha256)
_TMP: list[Path] = []


def _tmp_root() -> Path:
    if not _TMP:
        _TMP.append(Path(tempfile.mkdtemp(prefix="curate-inputs-")))
        atexit.register(shutil.rmtree, _TMP[0], True)
    return _TMP[0]


def _fetch(f: RemoteFile) -> tuple[Path, str]:
    key = json.dumps([f.fs.unstrip_protocol(f.path), f.fs.storage_options], sort_keys=True,
                     default=str)
    version = _version(f.info) if f.info else None
    hit = _FETCHED.get(key)
    if hit is not None and version is not None and hit[0] == version and hit[1].exists():
        return hit[1], hit[2]
    slot = _tmp_root() / hashlib.sha1(key.encode()).hexdigest()[:16]
    slot.mkdir(exist_ok=True)
    dest, digest = slot / (f.name or "file"), hashlib.sha256()
    try:
        with f.fs.open(f.path, "rb") as src, open(dest, "wb") as dst:
            while block := src.read(1 << 20):
                digest.update(block)
                dst.write(block)
    except FileNotFoundError:
        raise InputError("no such file", file=f.url) from None
    except Exception as exc:  # the backends raise their own errors (botocore, gcsfs, ...)
        raise InputError(f"cannot read: {type(exc).__name__}: {exc}", file=f.url) from None
    _FETCHED[key] = (version or "", dest, digest.hexdigest())
    return dest, digest.hexdigest()


def list_files(url: str, *, readable: Callable[[str], bool]) -> list[RemoteFile]:
    """The files a URL covers, in sorted order: the file itself, the files matching a glob, or
    a folder's readable files (``readable(name)``), walked like a local folder."""
    fs, path = open_url(url)
    shown = redact(url)
    try:
        if _GLOB.search(path) and not any(p.startswith("http") for p in protocols(fs)):
            return _glob(fs, path, shown, readable)
        if fs.isfile(path):
            return [RemoteFile(fs, path, shown, fs.info(path))]
        if not fs.isdir(path):
            raise InputError("no such file or folder", file=shown)
        out: list[RemoteFile] = []
        _walk(fs, path, path, shown, readable, out)
    except CurateError:
        raise
    except FileNotFoundError:
        raise InputError("no such file or folder", file=shown) from None
    except Exception as exc:  # permissions, network: the backend's own errors
        raise InputError(f"cannot list: {type(exc).__name__}: {exc}", file=shown) from None
    return out


def _glob(fs, pattern: str, shown: str, readable) -> list[RemoteFile]:
    base = pattern[:pattern.rfind("/", 0, _GLOB.search(pattern).start()) + 1].rstrip("/")
    head = shown.split("::")[0]
    m = _GLOB.search(head)
    base_url = shown
    if m:
        cut = head.rfind("/", 0, m.start())
        prefix = head[:cut + 1] if head[:cut + 1].endswith("://") else head[:cut]
        base_url = prefix + shown[len(head):]
    out: list[RemoteFile] = []
    matches = fs.glob(pattern, detail=True)  # one listing, not one request per file
    for found in sorted(matches):
        info = matches[found]
        if info.get("type") == "directory":
            _walk(fs, found, base, base_url, readable, out)
        elif readable(posixpath.basename(found)):
            out.append(RemoteFile(fs, found, join(base_url, relative(found, base)), info))
    if not out:
        raise InputError("no readable files match this pattern", file=shown)
    return out


def _walk(fs, folder: str, root: str, root_url: str, readable, out: list) -> None:
    entries = {}
    for e in fs.ls(folder, detail=True):
        name = posixpath.basename(e["name"].rstrip("/"))
        if e["name"].rstrip("/") != folder.rstrip("/") and name:
            entries[name] = e
    files = {n for n, e in entries.items() if e.get("type") != "directory"}
    here = join(root_url, relative(folder, root))
    if "manifest.json" in files and "data.parquet" in entries:  # a run: its final records
        ignored = [n for n in sorted(files)
                   if not n.startswith(".") and n not in RUN_LAYOUT and readable(n)]
        if ignored:
            raise InputError(f"a run folder, read as its data.parquet alone, but it also holds "
                             f"{ignored[0]}, which would be ignored; move such files out of the "
                             "run folder, or give them as their own input", file=here)
        e = entries["data.parquet"]
        if e.get("type") == "directory":  # a folder of part files
            out.extend(_parts(fs, e["name"].rstrip("/"), join(here, "data.parquet")))
        else:
            out.append(RemoteFile(fs, e["name"], join(here, "data.parquet"), e))
        return
    if "dataset_dict.json" in files or {"state.json", "dataset_info.json"} <= files:
        raise InputError("a saved HF dataset is read from a local folder only; download it "
                         "first", file=here)
    for name in sorted(entries):
        e = entries[name]
        if name.startswith("."):
            continue
        if e.get("type") == "directory":
            _walk(fs, e["name"].rstrip("/"), root, root_url, readable, out)
        elif readable(name):
            out.append(RemoteFile(fs, e["name"], join(here, name), e))


def record_files(url: str) -> list[RemoteFile] | None:
    """The parquet files of a records input at ``url`` (a run folder's ``data.parquet``, one
    file or a folder of part files, or a ``.parquet`` file or part folder), or None. Errors of
    the backend other than "not found" (credentials, network) are raised as what they are."""
    fs, path = open_url(url)
    try:
        info = fs.info(path)
        if info["type"] == "file":
            if path.lower().endswith(".parquet"):
                return [RemoteFile(fs, path, redact(url), info)]
            return None
        if path.rstrip("/").lower().endswith(".parquet"):  # a folder of part files
            return _parts(fs, path.rstrip("/"), redact(url)) or None
        data = path.rstrip("/") + "/data.parquet"
        found = fs.info(data)
        fs.info(path.rstrip("/") + "/manifest.json")
        shown = join(redact(url), "data.parquet")
        if found["type"] == "file":
            return [RemoteFile(fs, data, shown, found)]
        return _parts(fs, data, shown) or None
    except FileNotFoundError:  # nothing there: the row readers will say what is wrong
        return None
    except Exception as exc:  # credentials, network: the backend's own errors
        raise InputError(f"cannot read: {type(exc).__name__}: {exc}", file=redact(url)) \
            from exc


def _parts(fs, folder: str, shown: str) -> list[RemoteFile]:
    """The ``*.parquet`` files of a remote part folder, in name order."""
    entries = sorted((e for e in fs.ls(folder, detail=True) if e.get("type") == "file"),
                     key=lambda e: e["name"])
    out = []
    for e in entries:
        name = posixpath.basename(e["name"].rstrip("/"))
        if name.endswith(".parquet") and not name.startswith("."):
            out.append(RemoteFile(fs, e["name"], join(shown, name), e))
    return out


def local_folder(files: list[Path]) -> Path:
    """Local copies of part files as one folder of parts (links, in the given order); one
    file stands for itself."""
    if len(files) == 1:
        return files[0]
    key = hashlib.sha1("\0".join(map(str, files)).encode()).hexdigest()[:16]
    folder = _tmp_root() / f"parts-{key}.parquet"
    if not folder.is_dir():
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for i, f in enumerate(files):
            os.symlink(f, tmp / f"part-{i:05d}.parquet")
        os.replace(tmp, folder)
    return folder
