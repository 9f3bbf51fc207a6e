"""manifest.json: what ran, on what, with which versions, and where every row went."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import AccountingError
from .os_errors import os_error_message

MANIFEST = "manifest.json"
_PACKAGES = ("curate", "polars", "pyarrow", "pydantic", "datasets", "click")


def versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions of Python and of the packages a run used."""
    out = {"python": platform.python_version(), "platform": sys.platform}
    for name in (*_PACKAGES, *extra):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def file_sha256(path: Path, *, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def path_sha256(path: Path) -> tuple[str, int]:
    """sha256 and size of a file, or of a folder's files (names and contents, sorted)."""
    if path.is_file():
        return file_sha256(path), path.stat().st_size
    digest, size = hashlib.sha256(), 0
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(f.relative_to(path)).encode() + b"\0" + file_sha256(f).encode())
        size += f.stat().st_size
    return digest.hexdigest(), size


def describe_inputs(paths: list) -> list[dict[str, Any]]:
    """Path (a URL without credentials for a remote file), size and sha256 of each input."""
    out = []
    for p in paths:
        if isinstance(p, Path):
            sha, size = path_sha256(p)
        else:  # a curate.io.remote.RemoteFile: the bytes downloaded, hashed as they came
            sha, size = p.sha256, p.size
        out.append({"path": str(p), "bytes": size, "sha256": sha})
    return out


def check_accounting(name: str, rows_in: int, rows_out: int, dropped: dict[str, int],
                     added: int = 0) -> None:
    """The invariant of every stage: nothing is lost or invented (``added``: the rows a stage
    that splits rows says it made, e.g. several pairs from one prompt)."""
    made = f" + {added} made" if added else ""
    if rows_in + added != rows_out + sum(dropped.values()):
        raise AccountingError(
            f"stage {name}: {rows_in} rows in{made}, but {rows_out} kept + "
            f"{sum(dropped.values())} dropped {dropped}; rows were lost or invented")


def mark_stopped(manifest: dict[str, Any], exc: BaseException, step: str | None) -> str:
    """Say in ``manifest`` that ``exc`` stopped the run in ``step`` (a stage's slug, or
    ``export``, ``report``, ...): the run and its running stage become ``interrupted`` (Ctrl-C,
    SIGTERM) or ``failed``, with the ``error``. Returns the status."""
    interrupted = isinstance(exc, KeyboardInterrupt)
    status = "interrupted" if interrupted else "failed"
    if interrupted:
        error = f"interrupted ({getattr(exc, 'signal_name', 'SIGINT')})"
    else:  # an OS error (a full disk) in the words the CLI prints
        error = os_error_message(exc) or str(exc) or type(exc).__name__
    for entry in manifest["stages"]:
        if entry.get("status") == "running":
            entry.update(status=status, error=error)
    manifest.update(status=status, error=error, step=step)
    return status


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    path = out_dir / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> Path:
    """Written to a temporary file and renamed, so a crash never leaves half a manifest."""
    path = out_dir / MANIFEST
    tmp = path.with_suffix(".json.tmp")
    try:
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n",
                       encoding="utf-8")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return path
