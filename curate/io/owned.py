"""Which files of an output folder curate wrote: it replaces or removes only those.

Every folder curate writes as an output holds a small hidden marker, ``.curate.json``:

    {"written_by": "curate", "kind": "run"}
    {"written_by": "curate", "kind": "export", "target": "trl-sft", "files": ["README.md", ...]}

In a run folder curate owns the run layout (:data:`RUN_FILES`, :data:`RUN_FOLDERS`); a run
folder written before the marker existed is known by its ``manifest.json``. In an export folder
curate owns the files its marker lists. Anything else in either is the user's: never replaced,
removed or published. Hidden entries are not looked at (curate never reads them either).

    check_run_output("runs/x")          before a run: no data files or layout names of the user's
    check_export_output("out", names)   before an export: no file of the user's at those names
    mark_run(Path("runs/x"))            the folder is a run folder from now on
    ignored_beside_run(Path("runs/x"))  data files a reader of the run folder would not read

The checks take a local folder or an fsspec URL; at a URL they cost one listing (two levels
deep) and the reading of the marker or manifest, and a folder there is never looked into for
a marker of its own.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import CurateError
from ..manifest import MANIFEST
from .formats import is_readable_name
from .layout import RUN_FILES, RUN_FOLDERS, RUN_LAYOUT  # noqa: F401  (named here)
from .remote import is_url, open_url, redact, relative

MARKER = ".curate.json"


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker of a local folder, or None (none, or not curate's JSON)."""
    path = Path(folder) / MARKER
    return _parse_marker(path.read_bytes()) if path.is_file() else None


def folder_kind(folder: Path) -> str | None:
    """``run`` or ``export`` for a local folder curate wrote, else None."""
    folder = Path(folder)
    return _kind(lambda rel: (folder / rel).read_bytes() if (folder / rel).is_file() else None)


def mark_run(folder: Path) -> bool:
    """Make ``folder`` (and its parents) and mark it as a run folder; whether it was marked
    already."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if (read_marker(folder) or {}).get("kind") == "run":
        return True
    write_marker(folder, {"kind": "run"})
    return False


def export_files(folder: Path) -> list[str]:
    """The files (relative paths) the marker of an export folder lists."""
    marker = read_marker(folder) or {}
    return list(marker.get("files") or []) if marker.get("kind") == "export" else []


def write_marker(folder: Path, fields: dict[str, Any]) -> None:
    """Write the marker (through a temporary file, so it is never half written)."""
    path = Path(folder) / MARKER
    tmp = path.with_name(MARKER + ".tmp")
    tmp.write_text(json.dumps({"written_by": "curate", **fields}, indent=1) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)


def check_run_output(out: str | Path, *, flag: str = "-o") -> None:
    """CurateError unless a run may be written into ``out``: a new or empty folder, or a run
    folder curate wrote, holding no data file or folder of the user's (a run folder is read as
    its data.parquet alone, so they would be ignored) and nothing at a name a run writes."""
    folder = _open(out)
    if folder is None:
        return
    out = shown(out)
    kind = _kind(folder.read)
    if kind == "export":
        raise CurateError(f"{flag} {out}: an export folder written by `curate export`; a run "
                          f"needs a folder of its own: choose another {flag}")
    for name, is_dir in sorted(folder.entries.items()):
        if kind == "run" and name in RUN_LAYOUT:
            continue
        where = f"{_join(out, name)}{'/' if is_dir else ''}"
        if name in RUN_LAYOUT:
            raise CurateError(f"{flag} {out}: {where} was not written by curate and a run "
                              "writes there: write the run to a new or empty folder")
        if is_dir and not folder.user_data(name):
            continue  # another output of curate's, or no data: left as it is
        if is_dir or is_readable_name(name):
            what = "a folder" if is_dir else "a data file"
            raise CurateError(f"{flag} {out}: {where} is {what} curate did not write; a run "
                              "folder is read as its data.parquet alone, so it would be "
                              "ignored: write the run to a new or empty folder")


def check_export_output(out: str | Path, names: Iterable[str], *, overwrite: bool = False,
                        flag: str = "-o", way: str | None = None) -> None:
    """CurateError unless an export may write the files ``names`` (relative paths) into
    ``out``: none of them may exist unless curate wrote it there, or ``overwrite``. ``way``:
    what the message tells the user to do (default: --overwrite or another ``flag``)."""
    folder = _open(out)
    if folder is None:
        return
    out = shown(out)
    kind = _kind(folder.read)
    if kind == "run":
        raise CurateError(f"{flag} {out}: a run folder; export into {_join(out, 'export/NAME')} "
                          f"or another folder")
    owned = set(_marker_files(folder.read)) if kind == "export" else set()
    foreign = [n for n in names if n not in owned and folder.has(n)]
    if foreign and not overwrite:
        more = (f" (and {len(foreign) - 1} more: {', '.join(foreign[1:])})"
                if len(foreign) > 1 else "")
        it = "them" if more else "it"
        way = way or f"pass --overwrite to let curate replace {it}, or choose another {flag}"
        raise CurateError(f"{flag} {out}: {_join(out, foreign[0])} was not written by curate"
                          f"{more}; {way.format(it=it)}")


def ignored_beside_run(folder: Path) -> list[str]:
    """The data files and folders of the user's beside a run folder's layout (reading the run
    folder reads its data.parquet only), as names; folders end in '/'."""
    out = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        name = entry.name
        if name.startswith(".") or name in RUN_LAYOUT:
            continue
        if entry.is_dir():
            if _user_data(Path(entry.path)):
                out.append(name + "/")
        elif is_readable_name(name):
            out.append(name)
    return out


# -- a folder, local or at a URL ---------------------------------------------------------

@dataclass
class _Folder:
    entries: dict[str, bool]                  # top-level name -> is a folder (not hidden)
    has: Callable[[str], bool]                # whether a relative path exists
    read: Callable[[str], bytes | None]       # a small file's bytes, None when missing
    user_data: Callable[[str], bool]          # whether a subfolder holds the user's data


def _open(out: str | Path) -> _Folder | None:
    if is_url(out):
        return _open_remote(str(out))
    p = Path(out)
    if not p.is_dir():
        return None

    def read(rel: str) -> bytes | None:
        return (p / rel).read_bytes() if (p / rel).is_file() else None

    try:
        entries = {e.name: e.is_dir() for e in os.scandir(p) if not e.name.startswith(".")}
    except OSError as exc:  # a folder that may not be listed
        raise CurateError(f"{out}: cannot list this folder: {exc.strerror or exc}; choose "
                          "another -o") from None
    return _Folder(entries, lambda rel: (p / rel).exists(), read,
                   lambda name: _user_data(p / name))


def _open_remote(url: str) -> _Folder | None:
    fs, path = open_url(url)
    path = path.rstrip("/")
    try:
        found = fs.find(path, maxdepth=2, withdirs=True, detail=True)
    except FileNotFoundError:
        return None
    except Exception as exc:  # credentials, network: the backend's own errors
        raise CurateError(f"{redact(url)}: cannot list the output folder: "
                          f"{type(exc).__name__}: {exc}") from None
    rels = {relative(name, path): info.get("type") == "directory"
            for name, info in found.items()}
    rels.pop("", None)
    entries = {r: d for r, d in rels.items() if "/" not in r and not r.startswith(".")}

    def read(rel: str) -> bytes | None:
        if rel not in rels:
            return None
        try:
            return fs.cat_file(f"{path}/{rel}")
        except Exception as exc:  # the backend's own errors
            raise CurateError(f"{redact(url)}: cannot read {rel}: {type(exc).__name__}: "
                              f"{exc}") from None

    def user_data(name: str) -> bool:  # not looked into deeper than the listing
        return not ({f"{name}/{MARKER}", f"{name}/{MANIFEST}"} & set(rels))

    return _Folder(entries, lambda rel: rel in rels, read, user_data)


def _kind(read: Callable[[str], bytes | None]) -> str | None:
    marker = _parse_marker(read(MARKER))
    if marker is not None:
        return marker.get("kind")
    try:  # a run folder from before the marker: a manifest curate wrote
        manifest = json.loads(read(MANIFEST) or b"null")
    except ValueError:
        return None
    return "run" if isinstance(manifest, dict) and "stages" in manifest else None


def _marker_files(read: Callable[[str], bytes | None]) -> list[str]:
    return list((_parse_marker(read(MARKER)) or {}).get("files") or [])


def _parse_marker(data: bytes | None) -> dict[str, Any] | None:
    try:
        marker = json.loads(data) if data else None
    except ValueError:
        return None
    return marker if isinstance(marker, dict) and marker.get("written_by") == "curate" else None


def _user_data(folder: Path) -> bool:
    """Whether a local subfolder holds data files and is not an output of curate's."""
    if folder_kind(folder) is not None:
        return False
    for _root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if any(not f.startswith(".") and is_readable_name(f) for f in files):
            return True
    return False


def shown(path: str | Path) -> str:
    """A path as messages show it: a URL without credentials."""
    return redact(str(path)) if is_url(path) else str(path)


def _join(out: str | Path, rel: str) -> str:
    return f"{str(out).rstrip('/')}/{rel}"


def merge_remote_marker(folder: Path, url: str) -> None:
    """Add to the marker of an export staged in ``folder`` the files the marker at ``url``
    lists: they stay at the URL (curate deletes nothing there), so they stay curate's."""
    remote = _open_remote(url)
    old = _marker_files(remote.read) if remote is not None else []
    marker = read_marker(folder)
    if old and marker is not None:
        files = sorted(set(marker.get("files") or []) | set(old))
        write_marker(folder, {k: v for k, v in marker.items() if k != "written_by"}
                     | {"files": files})


def read_remote_manifest(url: str) -> dict[str, Any] | None:
    """The manifest of the run folder at the fsspec ``url``; None when it is not a run folder
    (a file, or a folder without a readable manifest.json)."""
    fs, path = open_url(url)
    try:
        return json.loads(fs.cat_file(path.rstrip("/") + "/" + MANIFEST))
    except (OSError, ValueError):  # not there (FileNotFoundError, NotADirectory), not JSON
        return None
