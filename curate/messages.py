"""Polars expressions over a record's messages: its parts (prompt, response, conversation,
pair), their text, and the one rule for the order of roles."""

from __future__ import annotations

from typing import Literal

import polars as pl

# the parts of a record that dedup, quality rules and splits look at
_is_sft = pl.col("kind") == "sft"


def prompt_messages() -> pl.Expr:
    """The turns before the reply: all but the last SFT message, or the preference prompt."""
    msgs = pl.col("messages")
    return pl.when(_is_sft).then(msgs.list.head(msgs.list.len() - 1)).otherwise(pl.col("prompt"))


def response_messages() -> pl.Expr:
    """The reply: the last SFT message, or the chosen reply of a pair."""
    msgs = pl.col("messages")
    return pl.when(_is_sft).then(msgs.list.tail(1)).otherwise(pl.col("chosen"))


def conversation_messages() -> pl.Expr:
    """The whole conversation: SFT messages, or prompt + chosen for a pair."""
    return pl.when(_is_sft).then(pl.col("messages")).otherwise(
        pl.concat_list(pl.col("prompt"), pl.col("chosen")))


def pair_messages() -> pl.Expr:
    """Prompt + chosen + rejected for a pair (the conversation for an SFT record)."""
    return pl.when(_is_sft).then(pl.col("messages")).otherwise(
        pl.concat_list(pl.col("prompt"), pl.col("chosen"), pl.col("rejected")))


def all_turns() -> pl.Expr:
    """Every turn of a record, replies included (for per-turn quality checks)."""
    return pair_messages()


def join_messages(expr: pl.Expr) -> pl.Expr:
    """A list of messages as one string: ``role\\x1fcontent`` turns joined by ``\\x1e``."""
    return expr.list.eval(
        pl.element().struct.field("role") + "\x1f" + pl.element().struct.field("content")
    ).list.join("\x1e")


def call_text(message: pl.Expr) -> pl.Expr:
    """A message struct's tool calls as text, one ``name(arguments)`` a line (ids left out:
    they name a call, they are not what it says); null when it calls none."""
    fn = pl.element().struct.field("function")
    return message.struct.field("tool_calls").list.eval(
        fn.struct.field("name") + "(" + fn.struct.field("arguments").fill_null("") + ")"
    ).list.join("\n")


def message_text(message: pl.Expr) -> pl.Expr:
    """What a message struct says: its content, then its tool calls (:func:`call_text`); the
    content alone for a turn that calls no tool."""
    return pl.concat_str([message.struct.field("content"), call_text(message)],
                         separator="\n", ignore_nulls=True)


def with_call_text(expr: pl.Expr) -> pl.Expr:
    """A list of messages as ``{role, content}`` structs whose content is :func:`message_text`
    (for :func:`join_messages` and the checks that read a turn's text)."""
    e = pl.element()
    return expr.list.eval(pl.struct(e.struct.field("role"), message_text(e).alias("content")))


def join_contents(expr: pl.Expr) -> pl.Expr:
    """A list of messages as one string of what they say (:func:`message_text`), turns joined
    by newlines; roles are left out."""
    return expr.list.eval(message_text(pl.element())).list.join("\n")


Part = Literal["prompt", "response", "conversation", "pair"]  # a key of MESSAGE_PARTS
MESSAGE_PARTS = {
    "prompt": prompt_messages,
    "response": response_messages,
    "conversation": conversation_messages,
    "pair": pair_messages,
}


# The one rule for the order of roles, shared by quality.rules (reason ``role_order``) and the
# exports (``bad_turn_order``): an optional system turn, then user and assistant turns
# alternating from user; tool results (one or more, for parallel tool calls) only between two
# assistant turns. A prompt ends with its user turn; a reply is assistant turns with tool
# results between them.
ROLE_CODES = {"system": "s", "user": "u", "assistant": "a", "tool": "t"}
_SFT_ORDER = r"^s?(?:ua(?:t+a)*)+$"
_PROMPT_ORDER = r"^s?(?:ua(?:t+a)*)*u$"
_REPLY_ORDER = r"^a(?:t+a)*$"


def _role_codes(turns: pl.Expr) -> pl.Expr:
    """Roles as one code letter per turn (``x`` for an unknown role)."""
    return turns.list.eval(
        pl.element().struct.field("role").replace_strict(ROLE_CODES, default="x",
                                                         return_dtype=pl.String)
    ).list.join("")


def conversation_order_ok(turns: pl.Expr) -> pl.Expr:
    """Whether an SFT conversation's roles are in order (null for a null list)."""
    return _role_codes(turns).str.contains(_SFT_ORDER)


def prompt_order_ok(turns: pl.Expr) -> pl.Expr:
    """Whether a pair's prompt turns are in order, ending with a user turn."""
    return _role_codes(turns).str.contains(_PROMPT_ORDER)


def reply_order_ok(turns: pl.Expr) -> pl.Expr:
    """Whether a reply's turns are in order: assistant turns, tool results between them."""
    return _role_codes(turns).str.contains(_REPLY_ORDER)
