"""OpenAI chat rows: ``messages`` of ``{role, content}``; content may be a list of text parts.

``developer`` counts as system and ``function`` as tool. An assistant turn's ``tool_calls`` (or
legacy ``function_call``) and a tool turn's ``tool_call_id`` are kept (an assistant turn that
only calls tools has empty content); other per-message keys (``name``, ``weight``) are ignored;
non-text parts are rejected. A row's ``tools`` (the functions on offer) goes to ``meta``.
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
