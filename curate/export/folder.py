"""The files of an export folder: the names an export writes, and the ones curate wrote there
(listed by the folder's marker, see :mod:`curate.io.owned`), which alone it replaces, removes
or publishes.

    export_names("axolotl")     ['train.parquet', ..., 'axolotl.yaml', 'README.md']
    published_files(folder)     the files `curate publish` uploads
    remove_export(folder)       remove what an export wrote (a run's stale export)
"""

from __future__ import annotations

from pathlib import Path

from ..io.owned import MARKER, export_files
from .split import SPLITS
from .targets import REGISTRY, get_target

FORMATS = ("parquet", "jsonl")
CARD = "README.md"
REJECTED = "rejected/export.parquet"  # rows `curate export` did not export


def export_names(target: str | None = None) -> list[str]:
    """Every file an export of ``target`` (None: of any target) may write, but the rejected
    rows' file: the split files in both formats, the target's side files and the card."""
    targets = [get_target(target)] if target else [get_target(name) for name in REGISTRY]
    sides = dict.fromkeys(name for t in targets for name in t.side_names)
    return [f"{s}.{ext}" for s in SPLITS for ext in FORMATS] + list(sides) + [CARD]


def published_files(folder: Path) -> list[Path]:
    """The files of an export folder that curate wrote and publishes, sorted: those its marker
    lists (a folder from before the marker: the names an export writes), never rejected/."""
    folder = Path(folder)
    listed = export_files(folder) or [n for n in export_names() if (folder / n).is_file()]
    return sorted(folder / rel for rel in listed
                  if not rel.startswith("rejected/") and (folder / rel).is_file())


def remove_export(folder: Path, *, listed_in_manifest: bool = False) -> None:
    """Remove the files an export wrote into ``folder`` (its marker's, or for an export a run
    wrote before the marker, ``listed_in_manifest``, the names an export writes), then the
    folder if nothing of the user's is left in it."""
    folder = Path(folder)
    owned = export_files(folder)
    if not owned and listed_in_manifest:
        owned = export_names() + [REJECTED]
    if not owned:
        return
    for rel in owned:
        (folder / rel).unlink(missing_ok=True)
    (folder / MARKER).unlink(missing_ok=True)
    for sub in (folder / "rejected", folder):
        if sub.is_dir() and not any(sub.iterdir()):
            sub.rmdir()
