"""Export targets: which rows a trainer format takes, the checks they pass, the columns written.

A target partitions a record frame into the rows it exports and the rows it does not (each with a
``drop_reason``), then builds the output columns of the kept rows. Checks run before anything is
written; a row takes the first reason it fails, in this order:

    wrong_kind              the row is not of the kind the target exports (e.g. a pair for SFT)
    empty_turn              a conversation or reply is missing or empty, or a turn has no text
    invalid_role            a turn's role is not one the target allows where it stands
    bad_turn_order          SFT: not ending with an assistant turn, no user turn, or a system turn
                            after the first; DPO: a prompt not ending with a user turn, a reply
                            not starting and ending with an assistant turn
    chosen_equals_rejected  the two replies are the same text (after normalisation)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import polars as pl

from ..errors import CurateError
from ..text import normalize_expr

CONVERSATION_ROLES = ("system", "user", "assistant", "tool")
REPLY_ROLES = ("assistant", "tool")
REASONS = ("wrong_kind", "empty_turn", "invalid_role", "bad_turn_order",
           "chosen_equals_rejected")

_e = pl.element()
_role = _e.struct.field("role")
_content = _e.struct.field("content")


def _empty(col: pl.Expr) -> pl.Expr:
    """True when the list is null or empty, or a turn has null or blank content."""
    blank = col.list.eval(_content.is_null() | (_content.str.strip_chars() == "")).list.any()
    return col.is_null() | (col.list.len() == 0) | blank.fill_null(True)


def _bad_roles(col: pl.Expr, allowed: tuple[str, ...]) -> pl.Expr:
    return col.list.eval(_role.is_null() | ~_role.is_in(list(allowed))).list.any().fill_null(True)


def _role_at(col: pl.Expr, i: int) -> pl.Expr:
    return col.list.get(i, null_on_oob=True).struct.field("role")


def _late_system(col: pl.Expr) -> pl.Expr:
    """A system turn anywhere but first."""
    return col.list.slice(1).list.eval(_role == "system").list.any().fill_null(False)


def _text(col: pl.Expr) -> pl.Expr:
    """A reply as one normalised string, for comparing chosen with rejected."""
    return col.list.eval(_role.fill_null("") + "\x1f" + normalize_expr(_content.fill_null(""))
                         ).list.join("\x1e")


def _first(*checks: tuple[str, pl.Expr]) -> pl.Expr:
    """The reason of the first check that holds, else null."""
    out = pl.lit(None, pl.String)
    for reason, cond in reversed(checks):
        out = pl.when(cond.fill_null(True)).then(pl.lit(reason)).otherwise(out)
    return out


@dataclass(frozen=True)
class Target:
    """An export format. ``task`` is "sft" or "dpo" (it picks the card's tags)."""

    name: str
    task: str
    description: str
    columns: tuple[str, ...]
    _reason: Callable[[dict], pl.Expr]
    _output: Callable[[dict], list[pl.Expr]]
    options: dict[str, object] = field(default_factory=dict)  # option -> default

    def resolve(self, options: dict) -> dict:
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise CurateError(f"target {self.name!r} has no option(s) {', '.join(unknown)} "
                              f"(its options: {known})")
        return {**self.options, **options}

    def partition(self, df: pl.DataFrame, **options) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(rows to export, rows not exported with ``drop_reason``); both keep df's columns."""
        opts = self.resolve(options)
        missing = [c for c in ("kind", "messages", "prompt", "chosen", "rejected")
                   if c not in df.columns]
        if missing:
            raise CurateError(f"cannot export to {self.name}: the frame has no "
                              f"{', '.join(missing)} column(s)")
        reason = df.select(self._reason(opts).alias("drop_reason"))["drop_reason"]
        bad = reason.is_not_null()
        kept = df.filter(~bad)
        rejected = df.with_columns(reason).filter(bad)
        return kept, rejected

    def output(self, kept: pl.DataFrame, **options) -> pl.DataFrame:
        """The columns written for rows that passed :meth:`partition`."""
        return kept.select(self._output(self.resolve(options)))


# --- trl-sft -------------------------------------------------------------------------------------

def _sft_messages(opts: dict) -> pl.Expr:
    msgs = pl.col("messages")
    if opts["sft_from_pairs"]:
        pair = pl.concat_list(pl.col("prompt"), pl.col("chosen"))
        return pl.when(pl.col("kind") == "preference").then(pair).otherwise(msgs)
    return msgs


def _sft_reason(opts: dict) -> pl.Expr:
    kinds = ["sft", "preference"] if opts["sft_from_pairs"] else ["sft"]
    msgs = _sft_messages(opts)
    bad_order = ((msgs.list.len() < 2) | (_role_at(msgs, -1) != "assistant")
                 | ~msgs.list.eval(_role == "user").list.any() | _late_system(msgs))
    checks = [("wrong_kind", ~pl.col("kind").is_in(kinds)),
              ("empty_turn", _empty(msgs)),
              ("invalid_role", _bad_roles(msgs, CONVERSATION_ROLES)),
              ("bad_turn_order", bad_order)]
    if opts["sft_from_pairs"]:  # a pair with replies that do not differ is no better as SFT
        is_pair = pl.col("kind") == "preference"
        checks += [("chosen_equals_rejected",
                    is_pair & (_text(pl.col("chosen")) == _text(pl.col("rejected"))))]
    return _first(*checks)


def _sft_output(opts: dict) -> list[pl.Expr]:
    return [pl.col("id"), _sft_messages(opts).alias("messages")]


# --- trl-dpo -------------------------------------------------------------------------------------

def _dpo_reason(opts: dict) -> pl.Expr:
    prompt, chosen, rejected = pl.col("prompt"), pl.col("chosen"), pl.col("rejected")

    def bad_reply(col: pl.Expr) -> pl.Expr:
        return (_role_at(col, 0) != "assistant") | (_role_at(col, -1) != "assistant")

    return _first(
        ("wrong_kind", pl.col("kind") != "preference"),
        ("empty_turn", _empty(prompt) | _empty(chosen) | _empty(rejected)),
        ("invalid_role", _bad_roles(prompt, CONVERSATION_ROLES) | _bad_roles(chosen, REPLY_ROLES)
         | _bad_roles(rejected, REPLY_ROLES)),
        ("bad_turn_order", (_role_at(prompt, -1) != "user") | _late_system(prompt)
         | bad_reply(chosen) | bad_reply(rejected)),
        ("chosen_equals_rejected", _text(chosen) == _text(rejected)),
    )


def _dpo_output(opts: dict) -> list[pl.Expr]:
    return [pl.col("id"), pl.col("prompt"), pl.col("chosen"), pl.col("rejected")]


REGISTRY: dict[str, Target] = {
    t.name: t for t in (
        Target("trl-sft", "sft",
               "supervised fine-tuning conversations for TRL's SFTTrainer",
               ("id", "messages"), _sft_reason, _sft_output, {"sft_from_pairs": False}),
        Target("trl-dpo", "dpo",
               "preference pairs for TRL's DPOTrainer (prompt, chosen, rejected)",
               ("id", "prompt", "chosen", "rejected"), _dpo_reason, _dpo_output),
    )
}
TARGETS: tuple[str, ...] = tuple(REGISTRY)


def get_target(name: str) -> Target:
    try:
        return REGISTRY[name]
    except KeyError:
        raise CurateError(f"unknown export target {name!r}; known targets: "
                          f"{', '.join(TARGETS)}") from None
