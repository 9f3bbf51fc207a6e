"""Vectorised row checks that export targets combine: each helper is a polars expression over a
conversation column (a list of message structs, see :mod:`curate.records`) that is true where
the check fails.

A target's checks are a list of ``(reason, failing_expr)``; :func:`first_reason` turns them into
the reason of the first failing check (null for a row that passes), so a row always gets exactly
one ``drop_reason``. Reasons used by the targets:

    wrong_kind              the row is not of a kind the target exports
    no_label                KTO from SFT rows: no accept/reject label
    empty_turn              a conversation or reply is missing or empty, or a turn has no text
    invalid_role            a turn's role is not one the target allows where it stands
    bad_turn_order          the roles are out of order: the rule quality.rules checks as
                            role_order (:func:`curate.records.conversation_order_ok`), and
                            what a target adds (see each target)
    multi_turn_reply        the target takes one reply message, the pair has a longer reply
    chosen_equals_rejected  the two replies are the same text (after normalisation)
    tool_calls_unsupported  the target has no form for tool calls (see tools.py)
    tool_call_id_missing    OpenAI: a call without its id or a tool turn without the call's id
    template_error          a chat template refused the conversation (see templates.py)
    lost_turn               a turn's text is missing from the rendered chat template
    too_long                the rendered conversation has more than ``max_tokens`` tokens
"""

from __future__ import annotations

import polars as pl

from ..messages import conversation_order_ok, message_text, prompt_order_ok, reply_order_ok
from ..text import normalize_expr

CONVERSATION_ROLES = ("system", "user", "assistant", "tool")
REPLY_ROLES = ("assistant", "tool")
REASONS = ("wrong_kind", "no_label", "empty_turn", "invalid_role", "bad_turn_order",
           "multi_turn_reply", "chosen_equals_rejected", "tool_calls_unsupported",
           "tool_call_id_missing", "template_error", "lost_turn", "too_long")

_e = pl.element()
ROLE = _e.struct.field("role")
CONTENT = _e.struct.field("content")


def empty(col: pl.Expr) -> pl.Expr:
    """The list is null or empty, or a turn has null or blank content and calls no tool."""
    no_call = _e.struct.field("tool_calls").list.len().fill_null(0) == 0
    blank = col.list.eval((CONTENT.is_null() | (CONTENT.str.strip_chars() == ""))
                          & no_call).list.any()
    return col.is_null() | (col.list.len() == 0) | blank.fill_null(True)


def bad_roles(col: pl.Expr, allowed: tuple[str, ...]) -> pl.Expr:
    """A turn has a null role or one outside ``allowed``."""
    return col.list.eval(ROLE.is_null() | ~ROLE.is_in(list(allowed))).list.any().fill_null(True)


def role_at(col: pl.Expr, i: int) -> pl.Expr:
    return col.list.get(i, null_on_oob=True).struct.field("role")


def without_system(col: pl.Expr) -> pl.Expr:
    """The conversation without its leading system turn (if any)."""
    return pl.when(role_at(col, 0) == "system").then(col.list.slice(1)).otherwise(col)


def not_alternating(col: pl.Expr, odd: tuple[str, ...], even: tuple[str, ...]) -> pl.Expr:
    """After a leading system turn, turns 1, 3, 5, ... are not all in ``odd`` or turns 2, 4, ...
    not all in ``even`` (LLaMA-Factory's rule, counting from 1)."""
    pos = pl.int_range(pl.len())
    ok = pl.when(pos % 2 == 0).then(ROLE.is_in(list(odd))).otherwise(ROLE.is_in(list(even)))
    return ~without_system(col).list.eval(ok.fill_null(False).all()).list.first().fill_null(False)


def text(col: pl.Expr) -> pl.Expr:
    """A reply as one normalised string (tool calls included), for comparing chosen with
    rejected."""
    return col.list.eval(ROLE.fill_null("") + "\x1f"
                         + normalize_expr(message_text(_e).fill_null(""))).list.join("\x1e")


def first_reason(*checks: tuple[str, pl.Expr]) -> pl.Expr:
    """The reason of the first check that holds, else null."""
    out = pl.lit(None, pl.String)
    for reason, cond in reversed(checks):
        out = pl.when(cond.fill_null(True)).then(pl.lit(reason)).otherwise(out)
    return out


def pair_checks(*, reply_roles: tuple[str, ...] = REPLY_ROLES,
                prompt_roles: tuple[str, ...] = CONVERSATION_ROLES,
                single_reply: bool = False) -> list[tuple[str, pl.Expr]]:
    """The checks of a preference pair: prompt and replies in the order quality.rules checks
    (the prompt ends with a user turn, a reply is assistant turns with tool results between
    them; one assistant turn each when ``single_reply``) and replies that differ."""
    prompt, chosen, rejected = pl.col("prompt"), pl.col("chosen"), pl.col("rejected")
    checks = [
        ("wrong_kind", pl.col("kind") != "preference"),
        ("empty_turn", empty(prompt) | empty(chosen) | empty(rejected)),
        ("invalid_role", bad_roles(prompt, prompt_roles) | bad_roles(chosen, reply_roles)
         | bad_roles(rejected, reply_roles)),
    ]
    if single_reply:  # before the order: a longer reply is what the target cannot take
        checks.append(("multi_turn_reply",
                       (chosen.list.len() != 1) | (rejected.list.len() != 1)))
    checks.append(("bad_turn_order", ~prompt_order_ok(prompt) | ~reply_order_ok(chosen)
                   | ~reply_order_ok(rejected)))
    checks.append(("chosen_equals_rejected", text(chosen) == text(rejected)))
    return checks


def conversation_checks(msgs: pl.Expr, kinds: list[str], *,
                        roles: tuple[str, ...] = CONVERSATION_ROLES) -> list[tuple[str, pl.Expr]]:
    """The checks of an SFT conversation: only ``roles``, in the order quality.rules checks
    (a system turn only first, user and assistant turns alternating from user, tool results
    between assistant turns, a final assistant turn)."""
    return [("wrong_kind", ~pl.col("kind").is_in(kinds)),
            ("empty_turn", empty(msgs)),
            ("invalid_role", bad_roles(msgs, roles)),
            ("bad_turn_order", ~conversation_order_ok(msgs))]
