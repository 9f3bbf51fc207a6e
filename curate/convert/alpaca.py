"""Alpaca rows: ``instruction``, optional ``input``, ``output``; optional ``system`` and
``history`` (``[[query, answer], ...]`` as in LLaMA-Factory)."""

from __future__ import annotations

from ..errors import RowError
from .common import clean, extras, optional_text, require, sft, text, turn

NAME = "alpaca"
KIND = "sft"
USED = ("instruction", "input", "output", "system", "history")


def matches(keys: set[str]) -> bool:
    return "instruction" in keys and "output" in keys


def user_text(data: dict, instruction_key: str = "instruction",
              extra_key: str = "input", extra_first: bool = False) -> str:
    """The instruction joined with its optional input (or context) by a blank line."""
    instruction = require(data, instruction_key)
    if not isinstance(instruction, str):
        raise RowError("wrong_type", f"expected a string, got {type(instruction).__name__}",
                       field=instruction_key)
    instruction = clean(instruction)
    extra = optional_text(data, extra_key)
    if not instruction.strip():
        if extra is None:
            raise RowError("empty_turn", "empty or whitespace-only text", field=instruction_key)
        return extra
    if extra is None:
        return instruction
    return f"{extra}\n\n{instruction}" if extra_first else f"{instruction}\n\n{extra}"


def history(value: object, field: str = "history") -> list[dict]:
    """``[[query, answer], ...]`` as user and assistant turns; null or "" is no history."""
    if value is None or value == "":  # an empty CSV cell is no history
        return []
    if not isinstance(value, list):
        raise RowError("wrong_type", f"expected a list of [query, answer] pairs, got "
                       f"{type(value).__name__}", field=field)
    out = []
    for i, pair in enumerate(value):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise RowError("wrong_type", "expected a [query, answer] pair", field=f"{field}[{i}]")
        out.append(turn("user", text(pair[0], f"{field}[{i}][0]")))
        out.append(turn("assistant", text(pair[1], f"{field}[{i}][1]")))
    return out


def to_records(data: dict) -> list[dict]:
    system = optional_text(data, "system")
    msgs = [turn("system", system)] if system else []
    msgs += history(data.get("history"))
    msgs.append(turn("user", user_text(data)))
    msgs.append(turn("assistant", text(require(data, "output"), "output")))
    return [sft(msgs, "output", extras(data, USED))]
