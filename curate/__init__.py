"""curate: turn raw corpora into SFT and preference datasets.

The Python API (loaded on first use, so that ``import curate`` and the command stay quick):
:func:`run` a recipe and :func:`read_run` a run folder (:mod:`curate.api`); :class:`Recipe`;
and for stage authors :class:`Stage` and the base classes of the stage shapes
(:class:`RowScorer`, :class:`ModelScorer`, :class:`KeyedGrouping`, :class:`GenerateStage`),
:class:`StageOptions` and :class:`StageContext`; :func:`stage_class` finds a stage by id; for
judge mode authors :class:`JudgeMode` and :class:`VoteMode` (:mod:`curate.judge.modes`).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "run": "curate.api", "read_run": "curate.api", "Run": "curate.api",
    "Recipe": "curate.recipe", "CurateError": "curate.errors",
    "Stage": "curate.stages.base", "RowScorer": "curate.stages.base",
    "ModelScorer": "curate.stages.base", "StageOptions": "curate.stages.base",
    "StageContext": "curate.stages.base", "StageResult": "curate.stages.base",
    "KeyedGrouping": "curate.stages.keyed",
    "GenerateStage": "curate.stages.llm_base", "GenerateOptions": "curate.stages.llm_base",
    "stage_class": "curate.stages.registry",
    "JudgeMode": "curate.judge.modes", "VoteMode": "curate.judge.modes.votes",
}
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'curate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
