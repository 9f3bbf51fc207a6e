"""Identity-group mentions, the bias audit (``OUT/bias.json``) and the filters on them
(stage ``safety.bias``)."""

from __future__ import annotations

import json
from typing import Any, Literal

import polars as pl
from pydantic import Field

from ..errors import StageError
from ..safety.audit import balance_mask, group_table
from ..safety.lexicon import category_expr, load_lexicon
from .base import DROP_REASON, RowScorer, StageContext, StageOptions, StageResult
from .safety_toxicity import part_text

BIAS_JSON = "bias.json"
REASONS = ("identity_attack", "toxic_about_group", "group_balance")


class BiasOptions(StageOptions):
    """Options of ``safety.bias``. A threshold set to null turns its rule off."""

    on: Literal["prompt", "response", "both"] = "both"
    """Where group mentions are looked for: the prompt, the reply (the chosen one for a pair),
    or both."""

    lexicon: str | None = Field(None, json_schema_extra={"path": "file"})
    """A JSON lexicon ``{"sources": [...], "categories": {category: {group: [terms]}}}``
    instead of the shipped one (``curate/data/identity_terms.json``)."""

    identity_attack_max: float | None = Field(default=0.5, ge=0, le=1)
    """Drop records whose ``identity_attack`` score is above: reason ``identity_attack``
    (inactive with a scorer that has no identity_attack label, e.g. alt-profanity-check)."""

    group_toxicity_max: float | None = Field(default=0.25, ge=0, le=1)
    """Drop records that mention a group and whose ``toxicity`` is above this (lower than the
    general toxicity threshold): reason ``toxic_about_group``."""

    balance: float | None = Field(default=None, gt=0, le=1)
    """Cap every group's share of the records that mention its category (e.g. 0.6): records of
    an over-represented group are dropped, most toxic first, reason ``group_balance``. A
    category with k groups present is capped at max(balance, 1/k)."""

    audit_toxic_above: float = Field(default=0.5, ge=0, le=1)
    """In ``bias.json``, a record counts as toxic (``toxic_rate``) or as an identity attack
    (``identity_attack_rate``) above this score."""


class Bias(RowScorer):
    """Finds the identity groups each record mentions, audits toxicity per group, and drops
    identity attacks, toxic talk about a group and (optionally) over-represented groups.

    Needs the scores of ``safety.toxicity`` (run it first). The groups come from the identity-
    term lexicon (categories gender, religion, race_ethnicity, nationality, sexual_orientation,
    disability, age). Writes ``OUT/bias.json``: per ``category/group`` the records that mention
    it, their share of the category, toxic rate, mean toxicity and identity-attack rate, for the
    stage's input (``groups``) and for what it kept (``kept.groups``).

    Input columns:
        - kind, messages / prompt, chosen (list[{role, content}]): the records.
        - toxicity (float), tox_identity_attack (float, where the scorer has it).

    Output columns:
        - identity_attack (float): the scorer's identity_attack score (null without one).
        - bias_groups (list[str]): the groups mentioned, as ``category/group``.
        - bias_<category> (list[str]): the groups of that category mentioned.
        - drop_reason (str): ``identity_attack``, ``toxic_about_group`` or ``group_balance``,
          on rejected records only.

    Stats:
        ``{"thresholds": ..., "failures": {reason: n}, "groups": {key: records},
        "identity_attack_scored": bool, "bias_json": "bias.json"}``.

    Examples:
        ```python
        from curate.stages.safety_bias import Bias
        from curate.stages.base import StageContext

        result = Bias({"group_toxicity_max": 0.1, "balance": 0.6}).apply(
            scored_df, StageContext(name="safety.bias", out_dir=Path("out")))
        ```

        In a recipe (after ``safety.toxicity``):

        ```yaml
        stages:
          - use: safety.toxicity
          - use: safety.bias
            with: {group_toxicity_max: 0.1, balance: 0.6}
        ```
    """

    id = "safety.bias"
    Options = BiasOptions
    summary = "Audit toxicity per identity group (bias.json); drop identity attacks and toxic talk about groups."
    reads = ("toxicity",)
    report_section = "safety"
    command, cli_name, cli_prefix, cli_order = "filter", "bias", "", 30
    cli_names = {"on": "bias-on"}

    options: BiasOptions

    def columns_written(self) -> tuple[str, ...]:
        lex = load_lexicon(self.options.lexicon)
        return ("identity_attack", "bias_groups", *(f"bias_{c}" for c in lex.categories))

    def score(self, batch: pl.DataFrame, ctx: StageContext | None = None) -> pl.DataFrame:
        """``batch`` with ``identity_attack``, ``bias_groups`` and ``bias_<category>`` added."""
        lex = load_lexicon(self.options.lexicon)
        parts = ["prompt", "response"] if self.options.on == "both" else [self.options.on]
        text = pl.concat_str([part_text(p) for p in parts], separator="\n")
        attack = (pl.col("tox_identity_attack").cast(pl.Float64)
                  if "tox_identity_attack" in batch.columns else pl.lit(None, pl.Float64))
        out = batch.with_columns(attack.alias("identity_attack"),
                                 lex.groups_expr(text).alias("bias_groups"))
        return out.with_columns([category_expr(pl.col("bias_groups"), c).alias(f"bias_{c}")
                                 for c in lex.categories])

    def check_input(self, df: pl.DataFrame, ctx: StageContext) -> None:
        if "toxicity" not in df.columns:
            raise StageError(f"{self.id} needs the toxicity scores of safety.toxicity: add "
                             "`- use: safety.toxicity` before it in the recipe")
        clash = sorted(set(self.columns_written()) & set(df.columns))
        if clash:
            raise StageError(f"{self.id}: the input already has columns {clash}")

    def checks(self, columns: list[str]) -> list[tuple[str, pl.Expr]]:
        o = self.options
        mentions = pl.col("bias_groups").list.len() > 0
        checks = []
        if o.identity_attack_max is not None:
            checks.append(("identity_attack", pl.col("identity_attack") > o.identity_attack_max))
        if o.group_toxicity_max is not None:
            checks.append(("toxic_about_group",
                           mentions & (pl.col("toxicity") > o.group_toxicity_max)))
        return checks

    def refine(self, decided: pl.DataFrame, ctx: StageContext
               ) -> tuple[pl.DataFrame, dict[str, int]]:
        """With ``balance``: drop rows of over-represented groups among the surviving rows."""
        if self.options.balance is None:
            return decided, {}
        alive = decided[DROP_REASON].is_null()
        over = balance_mask(decided.filter(alive), cap=self.options.balance, seed=ctx.seed)
        positions = alive.arg_true().filter(over)
        flag = pl.zeros(decided.height, pl.Boolean, eager=True).scatter(positions, True)
        decided = decided.with_columns(
            pl.when(flag).then(pl.lit("group_balance")).otherwise(pl.col(DROP_REASON))
            .alias(DROP_REASON))
        return decided, {"group_balance": int(over.sum())}

    def stats(self, scored: pl.DataFrame, kept: pl.DataFrame,
              ctx: StageContext) -> dict[str, Any]:
        """The audit: written to ``OUT/bias.json``, its per-group counts in the stats."""
        audit = self.audit(scored, kept)
        if ctx.out_dir is not None:
            (ctx.out_dir / BIAS_JSON).write_text(json.dumps(audit, indent=2) + "\n",
                                                 encoding="utf-8")
        return {"groups": {k: v["records"] for k, v in audit["groups"].items()},
                "identity_attack_scored": audit["identity_attack_scored"],
                "bias_json": BIAS_JSON if ctx.out_dir is not None else None}

    def audit(self, scored: pl.DataFrame, kept: pl.DataFrame) -> dict[str, Any]:
        """The content of ``bias.json`` for the stage's input and what it kept."""
        lex = load_lexicon(self.options.lexicon)
        t = self.options.audit_toxic_above
        before = group_table(scored, toxic_above=t)
        return {
            "stage": self.id,
            "thresholds": self.thresholds(),
            "toxic_above": t,
            "identity_attack_scored": bool(scored["identity_attack"].is_not_null().any()),
            "lexicon": {"path": lex.path, "sources": list(lex.sources),
                        "categories": {c: sorted(g) for c, g in lex.categories.items()}},
            "records": scored.height,
            "groups": before,
            "kept": {"records": kept.height,
                     "groups": group_table(kept, toxic_above=t, keys=list(before))},
        }


def bias(df: pl.DataFrame, **options) -> StageResult:
    """Library form of the ``safety.bias`` stage; ``options`` as in :class:`BiasOptions`."""
    return Bias(BiasOptions(**options)).apply(df, StageContext(name=Bias.id))
