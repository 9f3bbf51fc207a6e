"""ShareGPT rows: ``conversations`` of ``{from, value}`` turns, optional top-level ``system``.

Roles: human/user -> user; gpt/assistant/chatgpt/bard/model -> assistant; system -> system;
function_call (the model's call) -> an assistant turn with ``tool_calls`` (its value is the JSON
of ``{"name", "arguments"}`` or of a list of them, as LLaMA-Factory writes it);
observation/tool/function (the result) -> tool. Turns written as ``{role, content}`` are
accepted too.
"""

from __future__ import annotations

from .common import extras, messages, optional_text, require, sft, turn

NAME = "sharegpt"
KIND = "sft"
USED = ("conversations", "system")
ROLES = {
    "human": "user", "user": "user",
    "gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant", "bard": "assistant",
    "model": "assistant", "function_call": "assistant",
    "system": "system",
    "observation": "tool", "tool": "tool", "function": "tool",
}


def matches(keys: set[str]) -> bool:
    return "conversations" in keys


def to_records(data: dict) -> list[dict]:
    msgs = messages(require(data, "conversations"), "conversations", ROLES,
                    role_keys=("from", "role"), content_keys=("value", "content"),
                    call_roles=("function_call",))
    system = optional_text(data, "system")
    if system:
        msgs.insert(0, turn("system", system))
    return [sft(msgs, "conversations", extras(data, USED))]
