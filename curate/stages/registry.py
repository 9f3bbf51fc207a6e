"""Stage ids -> classes: the one registry.

A :class:`~curate.stages.base.Stage` subclass with an ``id`` registers itself when its class is
defined. The package's own stages are found by importing every module of ``curate.stages``
the first time a stage is looked up (cheap: stage modules import models and heavy libraries
only when they run), so a new stage is one new module and nothing else. Installed packages
add stages through the entry-point group ``curate.stages`` (:func:`load_plugins`: each entry
point names a module of stages or judge modes (:mod:`curate.judge.modes`), or a Stage
class); a plugin that cannot be loaded is a warning naming it, and the error of a stage id
not found says what failed. A stage defined elsewhere
(a test, a notebook) registers when its module is imported.

Two lookups import less, since importing all the stage modules (and the helpers of each:
embeddings, LLM clients, PII patterns) is a fixed cost of every command: a stage looked up by
id is first looked for in the module named after it (``dedup.near`` in ``dedup_near``), and
the stages of a command in :data:`NAMED_AFTER_COMMAND` in the modules named after the command
(``dedup_*``); anything else, or an id not found there, discovers every module
(tests/stages/test_registry.py checks both conventions against full discovery).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from typing import Any

from ..errors import RecipeError

from .base import Stage
from .known import STAGES, register  # noqa: F401  (looked up here)

GROUP = "curate.stages"  # the entry-point group of stage plugins
PLUGIN_ERRORS: dict[str, str] = {}  # entry point -> why it could not be loaded
_discovered = False
_plugins_loaded = False
# commands whose stages all live in modules named ``<command>_*``
NAMED_AFTER_COMMAND = frozenset({"dedup", "generate", "judge"})


def discover() -> None:
    """Import every module of this package once, so that its stages register."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    package = importlib.import_module(__package__)
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{__package__}.{info.name}")
    load_plugins()


def _plugins_declared() -> bool:
    """Whether any distribution on sys.path declares the group: a look at the entry_points.txt
    files only, a few ms where reading every distribution's metadata takes tens."""
    marker = f"[{GROUP}]"
    for entry in sys.path:
        try:
            found = os.scandir(entry or ".")
        except OSError:  # not a folder (a zip), or gone
            continue
        with found:
            for dist in found:
                if not dist.name.endswith((".dist-info", ".egg-info")):
                    continue
                try:
                    with open(os.path.join(dist.path, "entry_points.txt"),
                              encoding="utf-8") as f:
                        if marker in f.read():
                            return True
                except OSError:
                    continue
    return False


def load_plugins() -> None:
    """Import the stages of installed packages (entry points of :data:`GROUP`), once."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    if not _plugins_declared():
        return
    from importlib.metadata import entry_points  # startup: only where a plugin is declared

    from ..judge.modes import load_builtins  # startup: as above

    load_builtins()  # before a plugin's judge modes, which may not take their names
    for point in entry_points(group=GROUP):
        problem = _load_plugin(point)
        if problem is not None:
            PLUGIN_ERRORS[point.name] = problem
            print(f"curate: warning: {problem}", file=sys.stderr)


def _load_plugin(point: Any) -> str | None:
    """Import one entry point; what went wrong, or None."""
    from ..judge.modes import MODES, JudgeMode  # startup: only where a plugin is declared

    package = getattr(getattr(point, "dist", None), "name", None)
    where = (f"stage plugin {point.name!r} (entry point {point.name} = {point.value} in "
             f"group {GROUP}" + (f" of package {package})" if package else ")"))
    try:
        found = point.load()
    except Exception as exc:  # whatever the plugin's import raises: said, not a traceback
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        return f"{where}: cannot be loaded: {type(exc).__name__}: {first}"
    if isinstance(found, type) and issubclass(found, JudgeMode):
        if not found.name:
            return f"{where}: {found.__name__} has no name"
    elif isinstance(found, type) and issubclass(found, Stage):
        if not found.id:
            return f"{where}: {found.__name__} has no id"
        try:
            register(found)
        except RecipeError as exc:
            return f"{where}: {exc}"
    elif not hasattr(found, "__path__") and not hasattr(found, "__file__"):
        return (f"{where}: names a {type(found).__name__}; expected a module of stages or "
                "judge modes, or a Stage subclass with an id")
    elif not any(c.__module__ == found.__name__ or c.__module__.startswith(found.__name__ + ".")
                 for c in [*STAGES.values(), *MODES.values()]):
        return (f"{where}: module {found.__name__} defines no stage (a Stage subclass with an "
                "id) and no judge mode (a JudgeMode subclass with a name)")
    return None


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
        broken = "".join(f"; {problem}" for problem in PLUGIN_ERRORS.values())
        raise RecipeError(f"unknown stage {stage_id!r} (known: {known}){broken}") from None


def stage_ids() -> list[str]:
    discover()
    return sorted(STAGES)


def stages_of(command: str) -> list[type[Stage]]:
    """The stages whose options are flags of ``curate COMMAND``, in their declared order."""
    if command in NAMED_AFTER_COMMAND and not _discovered:
        package = importlib.import_module(__package__)
        _import_named([info.name for info in pkgutil.iter_modules(package.__path__)
                       if info.name.startswith(f"{command}_")])
        load_plugins()
    else:
        discover()
    return sorted((c for c in STAGES.values() if c.command == command),
                  key=lambda c: (c.cli_order, c.id))
