"""Dolly rows: ``instruction``, optional ``context``, ``response``, ``category`` (kept in meta).
The context comes before the instruction, separated by a blank line."""

from __future__ import annotations

from .alpaca import user_text
from .common import extras, require, sft, text, turn

NAME = "dolly"
KIND = "sft"
USED = ("instruction", "context", "response")


def matches(keys: set[str]) -> bool:
    return "instruction" in keys and "response" in keys


def to_records(data: dict) -> list[dict]:
    user = user_text(data, "instruction", "context", extra_first=True)
    msgs = [turn("user", user), turn("assistant", text(require(data, "response"), "response"))]
    return [sft(msgs, "response", extras(data, USED))]
