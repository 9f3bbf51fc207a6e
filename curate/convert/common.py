"""Helpers shared by the format adapters: text cleaning, field access, turns and records.

Adapters raise :class:`~curate.errors.RowError` with the exact field path (``conversations[3].from``)
for rows that cannot become a record.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..errors import RowError

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
             content_keys: tuple[str, ...] = ("content",)) -> list[dict]:
    """A list of turns from ``[{role, content}, ...]``-like dicts, roles mapped by ``roles``.

    The first of ``role_keys``/``content_keys`` present in a turn is used; unknown roles are
    RowError("unknown_role") naming e.g. ``conversations[3].from``.
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
        if m.get(ck) is None and m.get("tool_calls"):
            raise RowError("unsupported_content", "tool calls are not supported",
                           field=f"{at}.tool_calls")
        if ck not in m:
            raise RowError("missing_field", f"missing field '{ck}'", field=f"{at}.{ck}")
        out.append(turn(role, content_text(m[ck], f"{at}.{ck}")))
    return out


def sft(msgs: list[dict], field: str, meta: dict) -> dict:
    """An SFT record; the conversation needs a user turn and must end with an assistant turn."""
    if not any(m["role"] == "user" for m in msgs):
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
    skip = RESERVED.union(used)
    return {k: v for k, v in data.items() if k not in skip}


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
