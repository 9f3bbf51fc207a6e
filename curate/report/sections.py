"""The views a stage declares (its ``report_section`` module, see
:mod:`curate.stages.base`): ``section(out_dir, entry)`` for report.html, and optionally
``card(entry)`` for the dataset card and ``shown(text)`` for how a row the stage removed may be
shown (e.g. with its personal data as placeholders)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ..errors import RecipeError


def view_module(entry: dict[str, Any]) -> ModuleType | None:
    """The module of :mod:`curate.report` that shows a manifest stage entry: the one its
    stage class names, or (for a step that is not a stage, such as ``label pull``) the one its
    entry names as ``report``; None when there is none."""
    from ..stages.registry import stage_class  # upward

    if entry.get("use") == "convert":       # the runner's convert step, not a stage
        return importlib.import_module(f"{__package__}.convert")
    try:
        name = entry.get("report") or stage_class(str(entry.get("use", ""))).report_section
    except RecipeError:  # a stage of a plugin that is not installed here
        return None
    return importlib.import_module(f"{__package__}.{name}") if name else None


def card_parts(stages: list[dict[str, Any]]) -> list[str]:
    """The dataset card's parts the run's stages add (markdown), in run order; parts under
    the same ``## heading`` (two decontamination stages) share it."""
    parts: dict[str, str] = {}
    for entry in stages:
        module = view_module(entry)
        card = getattr(module, "card", None)
        text = card(entry) if card is not None else None
        if not text:
            continue
        head, sep, body = text.partition("\n\n")
        if head.startswith("## ") and sep and head in parts:
            parts[head] += "\n" + body
        else:
            parts[head if head.startswith("## ") and sep else text] = text
    return list(parts.values())


def shown_text(entry: dict[str, Any], text: str) -> str:
    """A removed row's text as its stage allows it to be shown."""
    shown = getattr(view_module(entry), "shown", None)
    return shown(text) if shown is not None else text
