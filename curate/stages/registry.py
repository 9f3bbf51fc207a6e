"""Stage ids -> classes: the one registry.

A :class:`~curate.stages.base.Stage` subclass with an ``id`` registers itself when its class is
defined. The package's own stages are found by importing every module of ``curate.stages``
the first time a stage is looked up (cheap: stage modules import models and heavy libraries
only when they run), so a new stage is one new module and nothing else. A stage defined
elsewhere (a plugin, a test) registers when its module is imported.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

from ..errors import RecipeError

if TYPE_CHECKING:  # pragma: no cover
    from .base import Stage

STAGES: dict[str, type[Stage]] = {}
_discovered = False


def discover() -> None:
    """Import every module of this package once, so that its stages register."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    package = importlib.import_module(__package__)
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{__package__}.{info.name}")


def stage_class(stage_id: str) -> type[Stage]:
    discover()
    try:
        return STAGES[stage_id]
    except KeyError:
        known = ", ".join(sorted(STAGES))
        raise RecipeError(f"unknown stage {stage_id!r} (known: {known})") from None


def stage_ids() -> list[str]:
    discover()
    return sorted(STAGES)


def stages_of(command: str) -> list[type[Stage]]:
    """The stages whose options are flags of ``curate COMMAND``, in their declared order."""
    discover()
    return sorted((c for c in STAGES.values() if c.command == command),
                  key=lambda c: (c.cli_order, c.id))


def register(cls: type[Stage]) -> type[Stage]:
    """Make a Stage subclass usable in recipes under its ``id`` (done on class definition;
    usable as a decorator)."""
    if not cls.id:
        raise ValueError(f"{cls.__name__} has no id")
    STAGES[cls.id] = cls
    return cls
