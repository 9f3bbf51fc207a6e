"""What a new run into an old run folder removes before it starts: the files of the old run
that this run does not reuse and may not write again, so that the folder (and `curate show`)
tells of this run alone.

Only curate's files go: in stages/, rejected/ and select/ the files named as curate names
them (``NN_<stage>.parquet``, ``export_<target>.parquet``), in export/ the export folders
curate wrote (their marker, or for a run from before the marker its manifest), and the final
``data.parquet`` and ``report.html``, which the run writes again. The score and LLM caches
(cache/) stay: they are keyed by content and are what makes reruns cheap.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Iterable

from ..export.folder import remove_export

_STAGE_FILE = re.compile(r"\d{2}_.+\.parquet")
_EXPORT_REJECTED = re.compile(r"export_.+\.parquet")


def clear_stale(out: Path, *, keep: Iterable[str], previous: dict[str, Any] | None,
                legacy: bool = False) -> list[str]:
    """Remove the old run's files in the run folder ``out`` but the checkpoints and rejected
    rows of the stages ``keep`` (slugs such as ``01_dedup.exact``) that this run reuses;
    ``previous``: the old manifest, whose exports count as curate's when the folder is a
    ``legacy`` one (from before the marker). Returns the removed paths, relative to ``out``."""
    keep = set(keep)
    removed = []
    for sub, patterns in (("stages", (_STAGE_FILE,)), ("select", (_STAGE_FILE,)),
                          ("rejected", (_STAGE_FILE, _EXPORT_REJECTED))):
        folder = out / sub
        for entry in sorted(folder.iterdir() if folder.is_dir() else []):
            name = entry.name
            if not any(p.fullmatch(name) for p in patterns):
                continue
            if name.removesuffix(".parquet") in keep:
                continue
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            removed.append(f"{sub}/{name}")
    listed = {e.get("path") for e in (previous or {}).get("exports") or []} if legacy else set()
    for entry in sorted((out / "export").iterdir() if (out / "export").is_dir() else []):
        if entry.is_dir():
            before = entry.exists()
            remove_export(entry, listed_in_manifest=f"export/{entry.name}" in listed)
            if before and not entry.exists():
                removed.append(f"export/{entry.name}/")
    for name in ("data.parquet", "report.html"):
        path = out / name
        if path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()  # parts, or one file
            removed.append(name)
    return removed
