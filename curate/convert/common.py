"""Helpers shared by the format adapters: text cleaning, field access, turns and records.

Adapters raise :class:`~curate.errors.RowError` with the exact field path (``conversations[3].from``)
for rows that cannot become a record.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..errors import RowError
from .tools import check_links, legacy_call, openai_calls, sharegpt_calls

# Keys handled by the converter itself, never copied into ``meta`` by an adapter.
RESERVED = frozenset({"id", "source", "__split__"})
_SPACES = ("\u00a0", "\u202f", "\u2007")


def clean(text: str) -> str:
    """Line endings as ``\\n``, non-breaking spaces as spaces, BOMs removed; nothing else."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    for ch in _SPACES:
        if ch in text:
            text = text.replace(ch, " ")
    if "\ufeff" in text:
        text = text.replace("\ufeff", "")
    return text


def require(data: dict, key: str, field: str | None = None) -> Any:
    """``data[key]``; a missing or null value is RowError("missing_field")."""
    value = data.get(key)
    if value is None:
        raise RowError("missing_field", f"missing field '{key}'", field=field or key)
    return value


def text(value: Any, field: str) -> str:
    """A turn's content: a non-blank string, cleaned."""
    if not isinstance(value, str):
        raise RowError("wrong_type", f"expected a string, got {type(value).__name__}", field=field)
    value = clean(value)
    if not value.strip():
        raise RowError("empty_turn", "empty or whitespace-only text", field=field)
    return value


def optional_text(data: dict, key: str) -> str | None:
    """An optional text field: None when absent, null or blank; otherwise cleaned text."""
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return text(value, key)


def turn(role: str, content: str) -> dict:
    return {"role": role, "content": content}


def join_nonblank(*parts: str | None) -> str:
    return "\n\n".join(p for p in parts if p)


def content_text(value: Any, field: str) -> str:
    """Message content: a string, or a list of ``{"type": "text", "text"}`` parts (joined)."""
    if isinstance(value, list):
        parts = []
        for j, part in enumerate(value):
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and part.get("type", "text") == "text":
                parts.append(text(require(part, "text", f"{field}[{j}].text"), f"{field}[{j}].text"))
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise RowError("unsupported_content",
                               f"only text content parts are supported, got {kind!r}",
                               field=f"{field}[{j}]")
        value = "\n".join(parts)
    if value is None:
        raise RowError("empty_turn", "content is null", field=field)
    return text(value, field)


def messages(value: Any, field: str, roles: dict[str, str], *,
             role_keys: tuple[str, ...] = ("role",),
             content_keys: tuple[str, ...] = ("content",),
             call_roles: tuple[str, ...] = ()) -> list[dict]:
    """A list of turns from ``[{role, content}, ...]``-like dicts, roles mapped by ``roles``.

    The first of ``role_keys``/``content_keys`` present in a turn is used; unknown roles are
    RowError("unknown_role") naming e.g. ``conversations[3].from``. Tool use is kept (see
    :mod:`curate.convert.tools`): an assistant turn's ``tool_calls`` (or legacy
    ``function_call``), whose content may then be empty, a tool turn's ``tool_call_id``, and
    turns whose role is one of ``call_roles`` (ShareGPT's ``function_call``), whose text is the
    calls.
    """
    if not isinstance(value, list):
        raise RowError("wrong_type", f"expected a list of turns, got {type(value).__name__}",
                       field=field)
    out = []
    for i, m in enumerate(value):
        at = f"{field}[{i}]"
        if not isinstance(m, dict):
            raise RowError("wrong_type", f"expected an object, got {type(m).__name__}", field=at)
        rk = next((k for k in role_keys if k in m), role_keys[0])
        ck = next((k for k in content_keys if k in m), content_keys[0])
        name = require(m, rk, f"{at}.{rk}")
        role = roles.get(name.lower()) if isinstance(name, str) else None
        if role is None:
            raise RowError("unknown_role", f"unknown role {name!r}; expected one of "
                           f"{', '.join(sorted(roles))}", field=f"{at}.{rk}")
        if ck not in m and m.get("tool_calls") in (None, []) and not m.get("function_call"):
            raise RowError("missing_field", f"missing field '{ck}'", field=f"{at}.{ck}")
        out.append(_turn(m, role, name.lower() in call_roles, ck, at))
    check_links(out, field)
    return out


def _turn(m: dict, role: str, is_call: bool, ck: str, at: str) -> dict:
    """One turn with its tool fields (set only where the input has them)."""
    if is_call:
        return {"role": role, "content": "", "tool_calls": sharegpt_calls(m[ck], f"{at}.{ck}")}
    calls = None
    if m.get("tool_calls") not in (None, []):  # an empty list is a turn without calls
        calls = openai_calls(m["tool_calls"], f"{at}.tool_calls")
    elif m.get("function_call") is not None:
        calls = legacy_call(m["function_call"], f"{at}.function_call")
    if calls is not None and role != "assistant":
        raise RowError("invalid_tool_call", f"only an assistant turn calls tools, not a {role} "
                       "turn", field=f"{at}.tool_calls")
    content = m.get(ck)
    if calls is not None and (content is None or content == "" or content == []):
        out = {"role": role, "content": ""}  # a turn that only calls tools
    else:
        out = turn(role, content_text(content, f"{at}.{ck}"))
    if calls is not None:
        out["tool_calls"] = calls
    call_id = m.get("tool_call_id")
    if call_id is not None and role == "tool":
        if not isinstance(call_id, str) or not call_id:
            raise RowError("invalid_tool_call", "tool_call_id must be a non-empty string",
                           field=f"{at}.tool_call_id")
        out["tool_call_id"] = call_id
    return out


def sft(msgs: list[dict], field: str, meta: dict) -> dict:
    """An SFT record; the conversation needs a user turn and must end with an assistant turn."""
    for m in msgs:  # a loop, not any(): this runs once a row
        if m["role"] == "user":
            break
    else:
        raise RowError("no_user_turn", "the conversation has no user turn", field=field)
    if msgs[-1]["role"] != "assistant":
        raise RowError("no_assistant_turn", "the conversation must end with an assistant turn, "
                       f"it ends with a {msgs[-1]['role']} turn", field=field)
    return {"kind": "sft", "messages": msgs, "meta": meta}


def preference(prompt: list[dict], chosen: list[dict], rejected: list[dict], meta: dict, *,
               fields: tuple[str, str, str] = ("prompt", "chosen", "rejected"),
               chosen_score: float | None = None, rejected_score: float | None = None) -> dict:
    """A preference record; the prompt ends with a user turn, replies differ."""
    if not prompt or prompt[-1]["role"] != "user":
        raise RowError("no_user_turn", "the prompt must end with a user turn", field=fields[0])
    for reply, field in ((chosen, fields[1]), (rejected, fields[2])):
        if not reply or reply[0]["role"] != "assistant":
            raise RowError("no_assistant_turn", "a reply must start with an assistant turn",
                           field=field)
    if chosen == rejected:
        raise RowError("identical_pair", "chosen and rejected replies are identical",
                       field=fields[1])
    return {"kind": "preference", "prompt": prompt, "chosen": chosen, "rejected": rejected,
            "chosen_score": chosen_score, "rejected_score": rejected_score, "meta": meta}


def extras(data: dict, used: Iterable[str]) -> dict:
    """The row's keys that the adapter did not use (for ``meta``)."""
    skip = _SKIP.get(used) if isinstance(used, tuple) else None
    if skip is None:
        skip = RESERVED.union(used)
        if isinstance(used, tuple):
            _SKIP[used] = skip
    return {k: v for k, v in data.items() if k not in skip}


_SKIP: dict[tuple, frozenset] = {}  # an adapter's USED -> the keys extras() leaves out


def number(value: Any, field: str) -> float | None:
    """An optional number (numeric strings from CSV accepted)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RowError("wrong_type", "expected a number, got bool", field=field)
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise RowError("wrong_type", f"expected a number, got {value!r}", field=field) from None
    return None if out != out else out  # NaN is a missing value
