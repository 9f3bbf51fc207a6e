"""Stage ids -> classes. Modules are imported only when their stage is used, so that
``curate --help`` and light recipes never pay for heavy imports (torch, models)."""

from __future__ import annotations

import importlib

from ..errors import RecipeError
from .base import Stage

# id -> "module:Class" (relative to curate.stages), or a Stage class registered by register()
STAGES: dict[str, str | type[Stage]] = {
    "dedup.exact": "dedup_exact:ExactDedup",
    "dedup.near": "dedup_near:NearDedup",
    "dedup.semantic": "dedup_semantic:SemanticDedup",
    "quality.rules": "quality:QualityRules",
    "safety.bias": "safety_bias:Bias",
    "safety.toxicity": "safety_toxicity:Toxicity",
    "select.diverse": "select_diverse:SelectDiverse",
}


def stage_class(stage_id: str) -> type[Stage]:
    try:
        target = STAGES[stage_id]
    except KeyError:
        known = ", ".join(sorted(STAGES))
        raise RecipeError(f"unknown stage {stage_id!r} (known: {known})") from None
    if isinstance(target, type):
        return target
    module_name, cls_name = target.split(":")
    module = importlib.import_module(f"{__package__}.{module_name}")
    return getattr(module, cls_name)


def stage_ids() -> list[str]:
    return sorted(STAGES)


def register(cls: type[Stage]) -> type[Stage]:
    """Make a Stage subclass usable in recipes under its ``id`` (usable as a decorator)."""
    if not cls.id:
        raise ValueError(f"{cls.__name__} has no id")
    STAGES[cls.id] = cls
    return cls
