"""Prompts without replies (format ``prompts``), for ``generate.responses``: each row's
``messages`` (ending with a user turn; a trailing assistant turn is left out), ``prompt``,
``instruction`` (+ ``input``), ``question`` or ``text`` becomes a ``prompt`` record."""

from __future__ import annotations

from ..errors import RowError
from .alpaca import user_text
from .common import extras, messages, text, turn

NAME = "prompts"
KIND = "prompt"
FIELDS = ("messages", "prompt", "instruction", "question", "text")
USED = (*FIELDS, "input", "system")
ROLES = {r: r for r in ("system", "user", "assistant", "tool")}


def matches(keys: set[str]) -> bool:
    return any(k in keys for k in FIELDS)


def to_records(data: dict) -> list[dict]:
    if data.get("messages") is not None:
        turns = messages(data["messages"], "messages", ROLES)
        while turns and turns[-1]["role"] == "assistant":
            turns.pop()
        if not turns or turns[-1]["role"] != "user":
            raise RowError("no_user_turn", "the conversation has no user turn to reply to",
                           field="messages")
    else:
        key = next((k for k in FIELDS[1:] if data.get(k) is not None), None)
        if key is None:
            raise RowError("missing_field", f"expected one of {', '.join(FIELDS)}",
                           field=FIELDS[1])
        content = user_text(data, key) if key == "instruction" else text(data[key], key)
        system = data.get("system")
        turns = ([turn("system", text(system, "system"))] if system else [])
        turns.append(turn("user", content))
    return [{"kind": "prompt", "prompt": turns, "meta": extras(data, USED)}]
