"""Stage ids -> classes: the one registry.

A :class:`~curate.stages.base.Stage` subclass with an ``id`` registers itself when its class is
defined. The package's own stages are found by importing every module of ``curate.stages``
the first time a stage is looked up (cheap: stage modules import models and heavy libraries
only when they run), so a new stage is one new module and nothing else. A stage defined
elsewhere (a plugin, a test) registers when its module is imported.

Two lookups import less, since importing all the stage modules (and the helpers of each:
embeddings, LLM clients, PII patterns) is a fixed cost of every command: a stage looked up by
id is first looked for in the module named after it (``dedup.near`` in ``dedup_near``), and
the stages of a command in :data:`NAMED_AFTER_COMMAND` in the modules named after the command
(``dedup_*``); anything else, or an id not found there, discovers every module
(tests/stages/test_registry.py checks both conventions against full discovery).
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
# commands whose stages all live in modules named ``<command>_*``
NAMED_AFTER_COMMAND = frozenset({"dedup"})


def discover() -> None:
    """Import every module of this package once, so that its stages register."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    package = importlib.import_module(__package__)
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{__package__}.{info.name}")


def _import_named(names: list[str]) -> None:
    """Import these modules of this package (a missing one is skipped)."""
    for name in names:
        module = f"{__package__}.{name}"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the module is there, something it imports is not
                raise


def stage_class(stage_id: str) -> type[Stage]:
    named = stage_id.replace(".", "_")
    if stage_id not in STAGES and not _discovered and named.isidentifier():
        _import_named([named])
    if stage_id not in STAGES:
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
    if command in NAMED_AFTER_COMMAND and not _discovered:
        package = importlib.import_module(__package__)
        _import_named([info.name for info in pkgutil.iter_modules(package.__path__)
                       if info.name.startswith(f"{command}_")])
    else:
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
