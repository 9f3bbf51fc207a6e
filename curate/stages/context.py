"""What a stage knows about the run it is part of, and how its work is cut (its shape): what
engines and the stage base classes both read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path


class Shape(str, Enum):
    """How a stage's work is cut, so that an engine knows how to run it."""

    ROW = "row"
    MODEL = "model"
    KEYED = "keyed"
    GLOBAL = "global"


@dataclass
class StageContext:
    """What a stage may know about the run it is part of."""

    name: str = "stage"
    index: int = 0
    seed: int = 0
    on_error: str = "raise"
    out_dir: Path | None = None
    cache_dir: Path | None = None
