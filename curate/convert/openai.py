"""OpenAI chat rows: ``messages`` of ``{role, content}``; content may be a list of text parts.

``developer`` counts as system and ``function`` as tool; other per-message keys (``name``,
``weight``) are ignored; tool calls and non-text parts are rejected.
"""

from __future__ import annotations

from .common import extras, messages, require, sft

NAME = "openai"
KIND = "sft"
USED = ("messages",)
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant",
         "tool": "tool", "function": "tool"}


def matches(keys: set[str]) -> bool:
    return "messages" in keys


def to_records(data: dict) -> list[dict]:
    msgs = messages(require(data, "messages"), "messages", ROLES)
    return [sft(msgs, "messages", extras(data, USED))]
