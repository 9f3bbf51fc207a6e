"""Which record kind a target exports, and what to say when the records are of the other kind.

    pick_task(target, df, options)   the ``task`` of axolotl, llama-factory and openai picked from
                                     the records when all are one kind, and a note saying so
    wrong_kind_hint(target, rejected, options)
                                     the flag that exports the rows a target turned down as
                                     ``wrong_kind`` (``--task dpo``, ``--target trl-sft``, ...)
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ..columns import DROP_REASON
from .targets import Target

_WHAT = {"preference": "preference pairs", "sft": "SFT records"}
_ONE = {"preference": "a preference pair", "sft": "an SFT record"}


def _kinds(df: pl.DataFrame) -> set[str]:
    if "kind" not in df.columns or df.height == 0:
        return set()
    return set(df["kind"].drop_nulls().unique().to_list())


def pick_task(t: Target, df: pl.DataFrame, options: dict[str, Any]) -> tuple[dict, str | None]:
    """``options`` with ``task`` set from the records' kind where the target has a task, the
    user gave none and every row is of one kind; and a note when the pick is not the target's
    default."""
    if "task" not in t.options or options.get("task") is not None:
        return options, None
    kinds = _kinds(df)
    if len(kinds) != 1:
        return options, None
    task = "dpo" if kinds == {"preference"} else "sft"
    note = None
    if task != t.options["task"]:
        other = "sft" if task == "dpo" else "dpo"
        note = f"task {task}: every row is {_ONE[kinds.pop()]} (--task {other} to choose otherwise)"
    return {**options, "task": task}, note


def wrong_kind_hint(t: Target, rejected: pl.DataFrame, options: dict[str, Any]) -> str | None:
    """How to export the rows that ``t`` turned down as ``wrong_kind``; None if there are none."""
    if DROP_REASON not in rejected.columns:
        return None
    kinds = _kinds(rejected.filter(pl.col(DROP_REASON) == "wrong_kind"))
    if not kinds:
        return None
    kind = "preference" if "preference" in kinds else "sft"
    if "task" in t.options:
        way = f"--task {'dpo' if kind == 'preference' else 'sft'} exports them"
    elif kind == "preference" and "sft_from_pairs" in t.options:
        way = "--target trl-dpo (or --sft-from-pairs: prompt + chosen) exports them"
    elif kind == "preference":
        way = "--target trl-dpo exports them"
    else:
        way = "--target trl-sft exports them"
    return f"{_WHAT[kind]}: {way}"
