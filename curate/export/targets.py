"""Export targets: which rows a trainer format takes, the checks they pass, the rows written.

A :class:`Target` partitions a record frame into the rows it exports and the rows it does not
(each with a ``drop_reason``, see :mod:`curate.export.checks`), then turns each kept record into
the row(s) of its format. This module defines the class and TRL's four dataset types; the
Axolotl, LLaMA-Factory and OpenAI targets are in :mod:`curate.export.frameworks`.

    trl-sft     ``messages`` (conversational language modeling), or ``prompt``/``completion``
                with ``sft_format="prompt-completion"``; ``sft_from_pairs`` also takes pairs
                (prompt + chosen)
    trl-dpo     ``prompt``/``chosen``/``rejected`` (conversational, explicit prompt)
    trl-kto     ``prompt``/``completion``/``label`` (bool): two rows per pair (chosen: true,
                rejected: false), and one per SFT record whose ``label_column`` (default: the
                first of ``label_accept``, ``label_verdict`` present) says accept/reject
    trl-reward  ``chosen``/``rejected`` with the prompt inside both (implicit prompt)

Every TRL target keeps tool use in TRL's form (see tools.py).

Input columns: ``kind``, ``id``, ``messages``, ``prompt``, ``chosen``, ``rejected`` (and the
KTO label column when present).
Output columns: per target, see each target's ``columns(opts)`` (rendered into the card).

Examples:

    >>> t = get_target("trl-kto")
    >>> kept, rejected = t.partition(df)          # rejected has drop_reason
    >>> t.output(kept).columns
    ['id', 'prompt', 'completion', 'label']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import polars as pl

from ..errors import CurateError
from ..record_schema import MESSAGES, MESSAGE_COLUMNS
from ..records import conform
from . import checks as C
from ..columns import DROP_REASON
from .tools import named_turns, output_dtype, uses_tools

Checks = Callable[[dict, pl.Schema], list[tuple[str, pl.Expr]]]
Rows = Callable[[dict, dict], list[dict]]

ID_DOC = "stable record id"
TASK_TAGS = {"sft": ["sft"], "dpo": ["dpo", "preference"], "kto": ["kto", "preference"],
             "reward": ["reward-modeling", "preference"]}
LABEL_COLUMNS = ("label_accept", "label_verdict")  # label.pull writes label_verdict
ACCEPT = ("accept", "accepted", "yes", "true", "1", "good", "chosen")
REJECT = ("reject", "rejected", "no", "false", "0", "bad")


@dataclass(frozen=True)
class Target:
    """An export format.

    ``checks(opts, schema)``: the (reason, failing) expressions rows are checked with.
    ``rows(record, opts)``: the output rows of one kept record (a dict of its columns).
    ``columns(opts)``: output column -> (polars dtype, description for the card).
    ``task(opts)``: sft, dpo, kto or reward (the card's tags and wording).
    ``usage(opts)``: lines of Python (after ``ds = load_dataset(...)``) for the card.
    ``side_files(opts, ctx)``: extra files beside the data, {name: text}; ``ctx`` holds
    ``files`` (split -> data file names written) and ``chat_template`` (e.g. Axolotl's YAML,
    LLaMA-Factory's dataset_info.json); ``side_names``: every name it may return.
    ``prepare(kept, opts)``: derived columns ``rows`` needs (KTO's ``_label``).
    ``turns(record)``: the record with its turns as the target writes tool use (TRL names the
    function a tool turn answers), applied when a kept record uses tools (see tools.py).
    """

    name: str
    description: str
    checks: Checks
    rows: Rows
    columns: Callable[[dict], dict[str, tuple[pl.DataType, str]]]
    task: Callable[[dict], str]
    usage: Callable[[dict], str]
    tags: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)   # option -> default
    choices: dict[str, tuple] = field(default_factory=dict)  # option -> allowed values
    formats: tuple[str, ...] = ("parquet", "jsonl")
    side_files: Callable[[dict, dict[str, list[str]]], dict[str, str]] | None = None
    side_names: tuple[str, ...] = ()  # the names side_files may write
    prepare: Callable[[pl.DataFrame, dict], pl.DataFrame] | None = None  # derived columns
    turns: Callable[[dict], dict] | None = None

    def resolve(self, options: dict) -> dict:
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise CurateError(f"target {self.name!r} has no option(s) {', '.join(unknown)} "
                              f"(its options: {known})")
        opts = {**self.options, **options}
        for key, allowed in self.choices.items():
            if opts[key] not in allowed:
                raise CurateError(f"target {self.name!r}: option {key} must be one of "
                                  f"{', '.join(map(str, allowed))}, not {opts[key]!r}")
        return opts

    def partition(self, df: pl.DataFrame, **options) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(rows to export, rows not exported with ``drop_reason``); both keep df's columns."""
        opts = self.resolve(options)
        missing = [c for c in ("kind", "messages", "prompt", "chosen", "rejected")
                   if c not in df.columns]
        if missing:
            raise CurateError(f"cannot export to {self.name}: the frame has no "
                              f"{', '.join(missing)} column(s)")
        df = conform(df)
        expr = C.first_reason(*self.checks(opts, df.schema))
        reason = df.select(expr.alias(DROP_REASON))[DROP_REASON]
        bad = reason.is_not_null()
        return df.filter(~bad), df.with_columns(reason).filter(bad)

    @staticmethod
    def uses_tools(kept: pl.DataFrame) -> bool:
        """Whether a record of ``kept`` calls a tool or answers a call."""
        return bool(kept.height) and bool(kept.select(uses_tools(*(
            pl.col(c) for c in MESSAGE_COLUMNS if c in kept.columns))).to_series().any())

    def schema(self, **options) -> dict[str, pl.DataType]:
        return {c: t for c, (t, _) in self.columns(self.resolve(options)).items()}

    def output(self, kept: pl.DataFrame, *, tools: bool | None = None,
               **options) -> pl.DataFrame:
        """The rows written for records that passed :meth:`partition`; a ``split`` column of
        ``kept`` is carried to every row made from the record. ``tools``: whether any record
        of the export uses tools (the written turns then carry the tool fields); None: any
        record of ``kept``."""
        opts = self.resolve(options)
        if self.prepare is not None:
            kept = self.prepare(kept, opts)
        if tools is None:
            tools = self.uses_tools(kept)
        schema = {c: output_dtype(t, tools) for c, t in self.schema(**opts).items()}
        records = kept.iter_rows(named=True)
        if tools and self.turns is not None:
            records = map(self.turns, records)
        if "split" in kept.columns:
            schema["split"] = pl.String
            rows = [{**r, "split": rec["split"]} for rec in records for r in self.rows(rec, opts)]
        else:
            rows = [r for rec in records for r in self.rows(rec, opts)]
        return pl.DataFrame(rows, schema=schema, orient="row")


# --- trl-sft -------------------------------------------------------------------------------------

def _sft_conversation(rec: dict, opts: dict) -> list[dict]:
    if rec["kind"] == "preference":
        return rec["prompt"] + rec["chosen"]
    return rec["messages"]


def _sft_messages_expr(opts: dict) -> pl.Expr:
    msgs = pl.col("messages")
    if opts["sft_from_pairs"]:
        pair = pl.concat_list(pl.col("prompt"), pl.col("chosen"))
        return pl.when(pl.col("kind") == "preference").then(pair).otherwise(msgs)
    return msgs


def _sft_checks(opts: dict, schema: pl.Schema) -> list[tuple[str, pl.Expr]]:
    kinds = ["sft", "preference"] if opts["sft_from_pairs"] else ["sft"]
    msgs = _sft_messages_expr(opts)
    checks = C.conversation_checks(msgs, kinds)
    if opts["sft_format"] == "prompt-completion":  # the prompt must ask for the completion
        sft = pl.col("kind") == "sft"
        before = pl.when(sft).then(C.role_at(msgs, -2)).otherwise(C.role_at(pl.col("prompt"), -1))
        checks.append(("bad_turn_order", ~before.is_in(["user", "tool"])))
    if opts["sft_from_pairs"]:  # a pair with replies that do not differ is no better as SFT
        is_pair = pl.col("kind") == "preference"
        checks.append(("chosen_equals_rejected",
                       is_pair & (C.text(pl.col("chosen")) == C.text(pl.col("rejected")))))
    return checks


def _sft_rows(rec: dict, opts: dict) -> list[dict]:
    if opts["sft_format"] == "messages":
        return [{"id": rec["id"], "messages": _sft_conversation(rec, opts)}]
    if rec["kind"] == "preference":
        return [{"id": rec["id"], "prompt": rec["prompt"], "completion": rec["chosen"]}]
    msgs = rec["messages"]
    return [{"id": rec["id"], "prompt": msgs[:-1], "completion": msgs[-1:]}]


def _sft_columns(opts: dict) -> dict:
    if opts["sft_format"] == "messages":
        return {"id": (pl.String, ID_DOC),
                "messages": (MESSAGES, "the conversation, a list of `{role, content}` turns "
                                       "ending with an assistant turn")}
    return {"id": (pl.String, ID_DOC),
            "prompt": (MESSAGES, "the conversation up to the reply, ending with a user turn"),
            "completion": (MESSAGES, "the reply (assistant turns)")}


# --- trl-dpo / trl-reward ------------------------------------------------------------------------

_PAIR_COLUMNS = {
    "id": (pl.String, ID_DOC),
    "prompt": (MESSAGES, "the conversation so far, a list of `{role, content}` turns ending "
                         "with a user turn"),
    "chosen": (MESSAGES, "the preferred reply (assistant turns)"),
    "rejected": (MESSAGES, "the dispreferred reply (assistant turns)"),
}
_REWARD_COLUMNS = {
    "id": (pl.String, ID_DOC),
    "chosen": (MESSAGES, "the prompt followed by the preferred reply (implicit prompt)"),
    "rejected": (MESSAGES, "the same prompt followed by the dispreferred reply"),
}


def _dpo_rows(rec: dict, opts: dict) -> list[dict]:
    return [{"id": rec["id"], "prompt": rec["prompt"], "chosen": rec["chosen"],
             "rejected": rec["rejected"]}]


def _reward_rows(rec: dict, opts: dict) -> list[dict]:
    return [{"id": rec["id"], "chosen": rec["prompt"] + rec["chosen"],
             "rejected": rec["prompt"] + rec["rejected"]}]


# --- trl-kto -------------------------------------------------------------------------------------

def label_expr(column: str | None, schema: pl.Schema) -> pl.Expr:
    """True for accept, False for reject, null when unlabelled, from a bool, numeric or string
    column (accept/accepted/yes/true/1/good/chosen and reject/rejected/no/false/0/bad)."""
    if column is None or column not in schema:
        return pl.lit(None, pl.Boolean)
    dtype = schema[column]
    col = pl.col(column)
    if dtype == pl.Boolean:
        return col
    if dtype.is_numeric():
        return col > 0
    text = col.cast(pl.String).str.strip_chars().str.to_lowercase()
    return (pl.when(text.is_in(list(ACCEPT))).then(True)
            .when(text.is_in(list(REJECT))).then(False).otherwise(None))


def label_column(opts: dict, schema: pl.Schema) -> str | None:
    """The KTO label column: the option, else the first of LABEL_COLUMNS the frame has."""
    if opts["label_column"]:
        return opts["label_column"]
    return next((c for c in LABEL_COLUMNS if c in schema), None)


def _kto_checks(opts: dict, schema: pl.Schema) -> list[tuple[str, pl.Expr]]:
    is_pair = pl.col("kind") == "preference"
    label = label_expr(label_column(opts, schema), schema)
    msgs = pl.col("messages")
    sft = dict(C.conversation_checks(msgs, ["sft"]))
    sft["bad_turn_order"] = sft["bad_turn_order"] | ~C.role_at(msgs, -2).is_in(["user", "tool"])
    pair = dict(C.pair_checks())
    reasons = ["empty_turn", "invalid_role", "bad_turn_order"]
    return ([("wrong_kind", ~pl.col("kind").is_in(["sft", "preference"])),
             ("no_label", ~is_pair & label.is_null())]
            + [(r, pl.when(is_pair).then(pair[r]).otherwise(sft[r])) for r in reasons]
            + [("chosen_equals_rejected", is_pair & pair["chosen_equals_rejected"])])


def _kto_prepare(kept: pl.DataFrame, opts: dict) -> pl.DataFrame:
    column = label_column(opts, kept.schema)
    return kept.with_columns(label_expr(column, kept.schema).alias("_label"))


def _kto_rows(rec: dict, opts: dict) -> list[dict]:
    if rec["kind"] == "preference":
        return [{"id": f"{rec['id']}:chosen", "prompt": rec["prompt"],
                 "completion": rec["chosen"], "label": True},
                {"id": f"{rec['id']}:rejected", "prompt": rec["prompt"],
                 "completion": rec["rejected"], "label": False}]
    msgs = rec["messages"]
    return [{"id": rec["id"], "prompt": msgs[:-1], "completion": msgs[-1:],
             "label": bool(rec["_label"])}]


_KTO_COLUMNS = {
    "id": (pl.String, "stable record id (`<pair id>:chosen` / `<pair id>:rejected` for rows "
                      "made from a preference pair)"),
    "prompt": (MESSAGES, "the conversation up to the reply, ending with a user turn"),
    "completion": (MESSAGES, "the reply (assistant turns)"),
    "label": (pl.Boolean, "true for a desirable completion, false for an undesirable one"),
}


def _trl_turns(rec: dict) -> dict:
    """A record with each tool turn named after the function it answers (TRL's form)."""
    if rec["kind"] == "preference":
        prompt, chosen = named_turns(rec["prompt"], rec["chosen"])
        rejected = named_turns(rec["prompt"], rec["rejected"])[1]
        return {**rec, "prompt": prompt, "chosen": chosen, "rejected": rejected}
    return {**rec, "messages": named_turns(rec["messages"])[0]}


def _trl_usage(trainer: str) -> Callable[[dict], str]:
    return lambda opts: f"# trl.{trainer}(model=..., train_dataset=ds[\"train\"], ...)"


REGISTRY: dict[str, Target] = {}


def register(target: Target) -> Target:
    REGISTRY[target.name] = target
    return target


register(Target(
    "trl-sft", "supervised fine-tuning conversations for TRL's SFTTrainer",
    _sft_checks, _sft_rows, _sft_columns, lambda o: "sft", _trl_usage("SFTTrainer"),
    tags=("trl",), options={"sft_from_pairs": False, "sft_format": "messages"},
    choices={"sft_format": ("messages", "prompt-completion"), "sft_from_pairs": (False, True)},
    turns=_trl_turns))
register(Target(
    "trl-dpo", "preference pairs for TRL's DPOTrainer (prompt, chosen, rejected)",
    lambda o, s: C.pair_checks(), _dpo_rows, lambda o: _PAIR_COLUMNS, lambda o: "dpo",
    _trl_usage("DPOTrainer"), tags=("trl",), turns=_trl_turns))
register(Target(
    "trl-kto", "unpaired preferences for TRL's KTOTrainer (prompt, completion, label)",
    _kto_checks, _kto_rows, lambda o: _KTO_COLUMNS, lambda o: "kto", _trl_usage("KTOTrainer"),
    tags=("trl",), options={"label_column": None}, prepare=_kto_prepare, turns=_trl_turns))
register(Target(
    "trl-reward", "preference pairs for TRL's RewardTrainer (chosen, rejected; implicit prompt)",
    lambda o, s: C.pair_checks(), _reward_rows, lambda o: _REWARD_COLUMNS, lambda o: "reward",
    _trl_usage("RewardTrainer"), tags=("trl",), turns=_trl_turns))


def get_target(name: str) -> Target:
    # the package's __init__ imports frameworks, which registers axolotl, llama-factory, openai
    try:
        return REGISTRY[name]
    except KeyError:
        raise CurateError(f"unknown export target {name!r}; known targets: "
                          f"{', '.join(REGISTRY)}") from None
