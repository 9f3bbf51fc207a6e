"""Judge modes of ``judge.llm``: what differs between pairwise verdicts, rubric scores and a
checklist (the template steps, the requests for a row, how answers become the row's judge
columns, the reliability stats).

A new mode is one module and its template file: a :class:`JudgeMode` subclass with a
``name`` registers when it is defined; ``judge.llm``'s ``mode`` option and ``curate judge
--mode`` (its choices and help) follow. curate's own modes are the modules of this package;
an installed package adds modes through a ``curate.stages`` entry point naming their module.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from ...errors import CurateError
from ...llm.templates import TEMPLATE_DIR

if TYPE_CHECKING:
    import polars as pl

    from ...llm.requests import Request, Response

    Ask = Callable[..., Request]  # ask(step, **fields): the request of a template step

MODES: dict[str, type["JudgeMode"]] = {}
_builtins_loaded = False


class JudgeMode:
    """One way of judging a row's candidates; an instance holds the stage's options.

    Examples:
        >>> from curate.judge.modes import mode_class
        >>> mode_class("pairwise").min_candidates
        2
    """

    name: ClassVar[str] = ""
    help: ClassVar[str] = ""          # what it does, in the `--mode` help: "name: help"
    order: ClassVar[int] = 100        # place among the `--mode` choices
    min_candidates: ClassVar[int] = 1  # rows with fewer candidates are not asked
    # its template: <template_dir>/<template_name>.yaml (default: the mode's name); modes
    # sharing one file all need their steps in it (and in a --template file)
    template_name: ClassVar[str] = ""
    template_dir: ClassVar[Path] = TEMPLATE_DIR
    template_steps: ClassVar[dict[str, set[str]]] = {}  # step -> the fields its text may use
    unusable: ClassVar[str] = "a usable answer"  # what no judge gave: the row is unparseable

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name"):
            cls.template_name = cls.template_name or cls.name
            known = MODES.get(cls.name)
            if known is not None and known.__module__.startswith(f"{__name__}.") \
                    and known.__module__ != cls.__module__:
                raise CurateError(f"judge mode {cls.name!r} of {cls.__module__}."
                                  f"{cls.__qualname__} is curate's own ({known.__module__}); "
                                  "a plugin's mode needs another name")
            MODES[cls.name] = cls

    def __init__(self, options: Any):
        self.options = options

    def aspects(self) -> list[str]:
        """The aspects it rates (a ``judge_<aspect>`` column each)."""
        return []

    def requests(self, instruction: str, candidates: list[str], ask: "Ask", seed: int
                 ) -> list[tuple[tuple, "Request"]]:
        """(what it asks, request) for a row, for one judge; ``seed``: the row's."""
        raise NotImplementedError

    def result(self, candidates: list[str], asked: list[tuple], replies: list[list["Response"]],
               names: list[str], unparseable: Counter) -> tuple[dict, int, dict]:
        """The row's judge columns from each judge's replies (in the order asked), the count
        of usable answers, and the combined ``scores``, ``disagreement`` and ``margin``;
        counts each judge's unreadable replies in ``unparseable``."""
        raise NotImplementedError

    def stats(self, scored: "pl.DataFrame", judges: list[str]) -> dict[str, Any]:
        """The reliability stats over a judged frame: ``agreement`` (and ``position``)."""
        return {"agreement": None}


def load_builtins() -> None:
    """Import curate's own modes (once)."""
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        for info in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{info.name}")


def mode_names() -> list[str]:
    """The known modes (curate's and those of plugins loaded), in their ``--mode`` order."""
    load_builtins()
    return [m.name for m in sorted(MODES.values(), key=lambda m: (m.order, m.name))]


def modes_help() -> str:
    """The `--mode` help: each mode and what it does."""
    load_builtins()
    return "; ".join(f"{name}: {MODES[name].help}" for name in mode_names()) + "."


def mode_class(name: str) -> type[JudgeMode]:
    load_builtins()
    try:
        return MODES[name]
    except KeyError:
        raise CurateError(f"unknown judge mode {name!r} (known: "
                          f"{', '.join(mode_names())})") from None


def template_steps(mode: type[JudgeMode]) -> dict[str, set[str]]:
    """The steps of the mode's template file: those of every mode that shares the file."""
    load_builtins()
    steps: dict[str, set[str]] = {}
    for other in sorted(MODES.values(), key=lambda m: (m.order, m.name)):
        if (other.template_dir, other.template_name) == (mode.template_dir, mode.template_name):
            steps.update(other.template_steps)
    return steps
