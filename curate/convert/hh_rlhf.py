"""Anthropic HH-RLHF rows: ``chosen`` and ``rejected`` transcripts
(``"\\n\\nHuman: ...\\n\\nAssistant: ..."``), or two message lists (TRL's implicit prompt).

The turns before the final assistant turn are the prompt and must be the same in both.
"""

from __future__ import annotations

import re

from ..errors import RowError
from .common import clean, extras, messages, preference, require, text, turn
from .records import ROLES

NAME = "hh-rlhf"
KIND = "preference"
USED = ("chosen", "rejected")
_MARK = re.compile(r"(?:^|\n\n)(Human|Assistant): ?")


def matches(keys: set[str]) -> bool:
    return "chosen" in keys and "rejected" in keys


def parse_transcript(value: str, field: str) -> list[dict]:
    """The turns of a ``Human:``/``Assistant:`` transcript."""
    parts = _MARK.split(clean(value))
    if len(parts) < 3 or parts[0].strip():
        raise RowError("invalid_transcript", "expected a transcript of '\\n\\nHuman: ...' and "
                       "'\\n\\nAssistant: ...' turns", field=field)
    return [turn("user" if parts[k] == "Human" else "assistant", text(parts[k + 1], field))
            for k in range(1, len(parts), 2)]


def _turns(value: object, field: str) -> list[dict]:
    if isinstance(value, str):
        turns = parse_transcript(value, field)
    elif isinstance(value, list):
        turns = messages(value, field, ROLES)
    else:
        raise RowError("wrong_type", "expected a transcript string or a list of messages, got "
                       f"{type(value).__name__}", field=field)
    if turns[-1]["role"] != "assistant":
        raise RowError("no_assistant_turn", "the transcript must end with an assistant turn",
                       field=field)
    return turns


def pair(chosen: object, rejected: object, meta: dict,
         fields: tuple[str, str] = ("chosen", "rejected")) -> dict:
    """A preference record from two whole conversations (transcripts or message lists) that
    share every turn before the final reply; ``fields`` name them in errors."""
    chosen_turns = _turns(chosen, fields[0])
    rejected_turns = _turns(rejected, fields[1])
    if chosen_turns[:-1] != rejected_turns[:-1]:
        raise RowError("prompt_mismatch", "chosen and rejected must share every turn before the "
                       "final assistant reply", field=fields[1])
    return preference(chosen_turns[:-1], chosen_turns[-1:], rejected_turns[-1:], meta,
                      fields=(fields[0], fields[0], fields[1]))


def to_records(data: dict) -> list[dict]:
    return [pair(require(data, "chosen"), require(data, "rejected"), extras(data, USED))]
