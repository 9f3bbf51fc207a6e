"""A run's stage checkpoints: the planned stages, their part folders and the column check."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .errors import StageError
from .io.parts import Parts, part_name
from .stages.base import Stage


@dataclass
class PlannedStage:
    index: int
    name: str
    use: str
    stage: Stage | None  # None for the convert step

    @property
    def slug(self) -> str:
        return f"{self.index:02d}_{self.name}"


def remove(path: Path) -> None:
    """A checkpoint of curate's (one file or a folder of parts) that is written again."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def link_parts(src: Parts, dst: Path) -> Parts:
    """``dst`` as a folder holding the parts of ``src``: hard links where the file system
    has them (no copy of the data), else copies."""
    remove(dst)
    tmp = dst.with_name(f".{dst.name}.tmp")
    remove(tmp)
    tmp.mkdir(parents=True)
    for i, f in enumerate(src.files):
        target = tmp / part_name(i)
        try:
            os.link(f, target)
        except OSError:
            shutil.copyfile(f, target)
    os.replace(tmp, dst)
    return Parts(dst)


def check_stage_columns(p: PlannedStage, before: pl.Schema, after: pl.Schema) -> None:
    """Stages add columns; they never drop or retype the columns they were given."""
    missing = [c for c in before if c not in after]
    if missing:
        raise StageError(f"stage {p.name} removed input columns {missing}")
    changed = [c for c in before if after[c] != before[c] and before[c] != pl.Null]
    if changed:
        raise StageError(f"stage {p.name} changed the type of input columns {changed}")
