"""Tool calls of input turns, in the record's shape (see :mod:`curate.records`).

    openai_calls(value, field)      an OpenAI ``tool_calls`` list
    legacy_call(value, field)       OpenAI's older ``function_call`` object: one call
    sharegpt_calls(text, field)     a ShareGPT ``function_call`` turn's value: the JSON text of
                                    ``{"name", "arguments"}`` or of a list of them
    check_links(turns, field)       every ``tool_call_id`` answers a call made before it

A call becomes ``{"id", "type": "function", "function": {"name", "arguments"}}`` with
``arguments`` the JSON text of an object (given as an object or as JSON text, as OpenAI sends
it); anything else is RowError("invalid_tool_call") naming the field.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import RowError

REASON = "invalid_tool_call"


def _bad(message: str, field: str) -> RowError:
    return RowError(REASON, message, field=field)


def arguments_text(value: Any, field: str) -> str:
    """A call's arguments as JSON text of an object (``{}`` when absent)."""
    if value is None or value == "":
        return "{}"
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise _bad("arguments are not valid JSON", field) from None
    if not isinstance(value, dict):
        raise _bad(f"arguments must be a JSON object, got {type(value).__name__}", field)
    return json.dumps(value, ensure_ascii=False)


def _call(name: Any, arguments: Any, call_id: Any, field: str) -> dict:
    if not isinstance(name, str) or not name.strip():
        raise _bad("a tool call needs the function's name", f"{field}.name")
    if call_id is not None and not isinstance(call_id, str):
        raise _bad(f"a tool call id must be a string, got {type(call_id).__name__}",
                   f"{field}.id")
    return {"id": call_id or None, "type": "function",
            "function": {"name": name, "arguments": arguments_text(arguments,
                                                                   f"{field}.arguments")}}


def openai_calls(value: Any, field: str) -> list[dict]:
    """An OpenAI ``tool_calls`` list: ``[{"id", "type": "function", "function": {...}}]``."""
    if not isinstance(value, list) or not value:
        raise _bad("tool_calls must be a non-empty list of calls", field)
    out = []
    for i, call in enumerate(value):
        at = f"{field}[{i}]"
        if not isinstance(call, dict):
            raise _bad(f"expected a call object, got {type(call).__name__}", at)
        if call.get("type", "function") != "function":
            raise _bad(f"only function calls are supported, got {call.get('type')!r}",
                       f"{at}.type")
        fn = call.get("function")
        if not isinstance(fn, dict):
            raise _bad("a tool call needs a function object", f"{at}.function")
        out.append(_call(fn.get("name"), fn.get("arguments"), call.get("id"), f"{at}.function"))
    return out


def legacy_call(value: Any, field: str) -> list[dict]:
    """OpenAI's deprecated ``function_call`` object as a one-call list."""
    if not isinstance(value, dict):
        raise _bad(f"function_call must be an object, got {type(value).__name__}", field)
    return [_call(value.get("name"), value.get("arguments"), None, field)]


def sharegpt_calls(text: Any, field: str) -> list[dict]:
    """A ShareGPT ``function_call`` turn's value (LLaMA-Factory's form): JSON of one
    ``{"name", "arguments"}`` object or of a list of them."""
    if not isinstance(text, str):
        raise _bad(f"a function_call turn holds JSON text, got {type(text).__name__}", field)
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise _bad('a function_call turn must be JSON: {"name": ..., "arguments": {...}}',
                   field) from None
    calls = value if isinstance(value, list) else [value]
    if not calls or not all(isinstance(c, dict) for c in calls):
        raise _bad('a function_call turn must be JSON: {"name": ..., "arguments": {...}}',
                   field)
    return [_call(c.get("name"), c.get("arguments"), c.get("id"), field) for c in calls]


def check_links(turns: list[dict], field: str) -> None:
    """A tool turn's ``tool_call_id`` must name a call of an earlier assistant turn."""
    called: set[str] = set()
    for i, t in enumerate(turns):
        for call in t.get("tool_calls") or ():
            if call["id"]:
                called.add(call["id"])
        answered = t.get("tool_call_id")
        if answered is not None and answered not in called:
            raise _bad(f"tool_call_id {answered!r} answers no earlier tool call",
                       f"{field}[{i}].tool_call_id")
