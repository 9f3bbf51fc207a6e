"""A run folder at an fsspec URL, staged in a local folder and mirrored to the URL.

The runner and the stages write a local folder (``$CURATE_HOME/runs/<hash of the URL>``, else
``~/.cache/curate/runs/<hash>``); :meth:`RunMirror.push` uploads the files that are new or changed
since the last push, ``manifest.json`` last, so the manifest at the URL never names a
checkpoint that is not there yet. The runner pushes after every stage (an interrupted run
leaves its checkpoints at the URL) and at the end, then removes the staging folder. For
``--resume``/``--from``, :meth:`RunMirror.start` first pulls the run folder from the URL
(manifest, checkpoints, rejected rows and the score cache; not the final files, which are
written again). Files at the URL are never deleted, as a local run never deletes them.

Examples:
    ```python
    mirror = RunMirror("s3://bucket/runs/demo")
    mirror.start(pull=False)              # an empty staging folder: mirror.local
    ...                                   # write files under mirror.local
    mirror.push()                         # upload what changed
    mirror.close()                        # remove the staging folder
    ```
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
from pathlib import Path

from ..errors import CurateError
from ..manifest import MANIFEST
from .remote import open_url, protocols, redact, relative

NOT_PULLED = ("data.parquet", "report.html", "export/")


def staging_root() -> Path:
    """Where run folders for URLs are staged: ``$CURATE_HOME/runs``, else
    ``$XDG_CACHE_HOME/curate/runs``, else ``~/.cache/curate/runs``."""
    if os.environ.get("CURATE_HOME"):
        return Path(os.environ["CURATE_HOME"]) / "runs"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "curate" / "runs"


class RunMirror:
    """The run folder at ``url`` and its local staging folder ``local``.

    Args:
        url: an fsspec URL (credentials come from fsspec's configuration or the environment).
        root: the staging root; :func:`staging_root` when None.
    """

    def __init__(self, url: str, *, root: Path | None = None):
        self.url, self.shown = url, redact(url)
        self.fs, self.path = open_url(url)
        self.path = self.path.rstrip("/")
        key = hashlib.sha256(self.shown.encode()).hexdigest()[:16]
        self.local = (root or staging_root()) / key
        self._sent: dict[str, tuple[int, int]] = {}

    def __str__(self) -> str:
        return self.shown

    def _fail(self, what: str, exc: Exception) -> CurateError:
        return CurateError(f"{self.shown}: cannot {what} the run folder: "
                           f"{type(exc).__name__}: {exc}")

    def start(self, *, pull: bool) -> None:
        """An empty staging folder; with ``pull``, filled from the run folder at the URL."""
        shutil.rmtree(self.local, ignore_errors=True)
        self.local.mkdir(parents=True)
        self._sent = {}
        if pull:
            try:
                self.pull()
            except CurateError:
                raise
            except Exception as exc:  # the backend's own errors
                raise self._fail("read", exc) from None

    def pull(self) -> list[str]:
        """Download the run folder's files but the final ones; returns their relative paths."""
        if not self.fs.isdir(self.path):
            return []
        got = []
        for remote in sorted(self.fs.find(self.path)):
            rel = relative(remote, self.path)
            if rel == remote or rel.startswith(NOT_PULLED) or rel in NOT_PULLED:
                continue
            dest = self.local / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            self.fs.get_file(remote, str(dest))
            self._sent[rel] = _signature(dest)
            got.append(rel)
        return got

    def push(self) -> list[str]:
        """Upload the staged files that are new or changed since the last push (the manifest
        last); returns their relative paths."""
        changed = []
        for f in sorted(self.local.rglob("*")):
            if not f.is_file() or f.name.endswith(".tmp"):
                continue
            rel = f.relative_to(self.local).as_posix()
            if self._sent.get(rel) != _signature(f):
                changed.append(rel)
        changed.sort(key=lambda rel: rel == MANIFEST)
        try:
            for rel in changed:
                self._upload(rel)
        except Exception as exc:
            raise self._fail("write", exc) from None
        return changed

    def _upload(self, rel: str) -> None:
        src, dest = self.local / rel, f"{self.path}/{rel}"
        sig = _signature(src)
        self.fs.makedirs(posixpath.dirname(dest), exist_ok=True)
        if "file" in protocols(self.fs):  # a local folder: write aside, then rename
            self.fs.put_file(str(src), dest + ".tmp")
            self.fs.mv(dest + ".tmp", dest)
        else:  # object stores: an upload is atomic already
            self.fs.put_file(str(src), dest)
        self._sent[rel] = sig

    def close(self) -> None:
        """Remove the staging folder (everything is at the URL)."""
        shutil.rmtree(self.local, ignore_errors=True)


def _signature(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns
