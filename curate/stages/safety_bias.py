"""Identity-group mentions, the bias audit (``OUT/bias.json``) and the filters on them
(stage ``safety.bias``)."""

from __future__ import annotations

import json
from typing import Any, Literal

import polars as pl
from pydantic import Field, field_validator

from ..errors import StageError
from ..safety import scorers
from ..safety.audit import balance_mask, group_audit
from ..safety.lexicon import category_expr, load_lexicon
from ..safety.options import AUTO, Threshold, part_text, threshold_or_auto
from ..io.parts import Parts
from .base import DROP_REASON, RowScorer, StageContext, StageOptions, StageOutput, StageResult
from .bias_run import entered_compact, output_groups

BIAS_JSON = "bias.json"
REASONS = ("identity_attack", "toxic_about_group", "group_balance")
EXAMPLES = 3          # removed examples per flagged group in bias.json
EXCERPT_CHARS = 300
AUDIT = "__audit"  # the stage's audit, from stats() to finish()


class BiasOptions(StageOptions):
    """Options of ``safety.bias``. A threshold set to null turns its rule off; ``auto`` is the
    measured default of the scorer that wrote the toxicity scores (see benchmarks/README.md)."""

    on: Literal["prompt", "response", "both"] = "both"
    """Where group mentions are looked for: the prompt, the reply (the chosen one for a pair),
    or both."""

    lexicon: str | None = Field(None, json_schema_extra={"path": "file"})
    """A JSON lexicon ``{"sources": [...], "categories": {category: {group: [terms]}}}``
    instead of the shipped one (``curate/data/identity_terms.json``)."""

    identity_attack_max: Threshold | Literal["auto"] | None = "auto"
    """Drop records whose ``identity_attack`` score is above: reason ``identity_attack``
    (``auto``: 0.5 for Detoxify; inactive with a scorer that has no identity_attack label, e.g.
    alt-profanity-check)."""

    group_toxicity_max: Threshold | Literal["auto"] | None = "auto"
    """Drop records that mention a group and whose ``toxicity`` is above this: reason
    ``toxic_about_group`` (``auto``: 0.25 for Detoxify, lower than its general 0.5;
    profanity-check 0.8, against its general 0.9: its score is profanity, not hate)."""

    balance: float | None = Field(default=None, gt=0, le=1)
    """Cap every group's share of the records that mention its category (e.g. 0.6): records of
    an over-represented group are dropped, most toxic first, reason ``group_balance``. A
    category with k groups present is capped at max(balance, 1/k)."""

    audit_toxic_above: Threshold | Literal["auto"] = "auto"
    """In ``bias.json``, a record counts as toxic (``toxic_rate_in``) or as an identity attack
    above this score (``auto``: the scorer's default toxicity threshold)."""

    disparity_max: float = Field(default=1.5, gt=0)
    """In ``bias.json``, flag a group ``over_removed`` when its removed rate over the run is
    more than this many times the run's removed rate (and ``often_toxic`` when its toxic rate
    in the input is more than this many times the input's)."""

    disparity_min_records: int = Field(default=20, ge=1)
    """Groups with fewer records in the input are never flagged (too few to tell)."""

    @field_validator("identity_attack_max", "group_toxicity_max", "audit_toxic_above",
                     mode="before")
    @classmethod
    def _threshold(cls, value: Any) -> Any:
        return threshold_or_auto(value)


class Bias(RowScorer):
    """Finds the identity groups each record mentions, audits toxicity and removals per group
    over the whole run, and drops identity attacks, toxic talk about a group and (optionally)
    over-represented groups.

    Needs the scores of ``safety.toxicity`` (run it first); the groups come from the shipped
    identity-term lexicon. ``OUT/bias.json`` audits the whole run (the stage's ``finish_run``;
    what it holds: README, "Toxicity and bias"); used as a library (``apply`` outside a run) the
    audit covers this stage alone (``"scope": "stage"``).

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
        ``{"thresholds": ..., "failures": {reason: n}, "groups": {key: records in},
        "identity_attack_scored": bool, "bias_json": "bias.json", "run": {"records_in",
        "removed_rate", "flagged": {key: {"flags", "records_in", "removal_ratio", ...}}}}``
        (``run`` once the whole run is done).

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
            with: {group_toxicity_max: 0.1, balance: 0.6, disparity_max: 1.5}
        ```
    """

    id = "safety.bias"
    Options = BiasOptions
    summary = "Audit toxicity and removals per identity group over the run (bias.json); drop identity attacks and toxic talk about groups."
    reads = ("toxicity",)
    report_section = "safety"
    command, cli_name, cli_prefix, cli_order = "filter", "bias", "", 30
    cli_names = {"on": "bias-on"}

    options: BiasOptions

    def __init__(self, options=None):
        super().__init__(options)
        self._scorer: str | None = None  # whose scale the toxicity scores are on (its columns)

    def columns_written(self) -> tuple[str, ...]:
        lex = load_lexicon(self.options.lexicon)
        return ("identity_attack", "bias_groups", *(f"bias_{c}" for c in lex.categories))

    # -- thresholds -----------------------------------------------------------------------
    def _resolve(self, name: str) -> float | None:
        value = getattr(self.options, name)
        if value != AUTO:
            return value
        default = "max" if name == "audit_toxic_above" else name
        return scorers.default_threshold(self._scorer or "detoxify", default)

    def thresholds(self) -> dict[str, Any]:
        out = self.options.model_dump(mode="json")
        if self._scorer is not None:
            names = ("identity_attack_max", "group_toxicity_max", "audit_toxic_above")
            out.update({n: self._resolve(n) for n in names}, scorer=self._scorer)
        return out

    # -- scoring and deciding ---------------------------------------------------------------
    def mentions(self) -> pl.Expr:
        """The ``category/group`` keys a record mentions (in the options' ``on`` text)."""
        parts = ["prompt", "response"] if self.options.on == "both" else [self.options.on]
        text = pl.concat_str([part_text(p) for p in parts], separator="\n")
        return load_lexicon(self.options.lexicon).groups_expr(text)

    def score(self, batch: pl.DataFrame, ctx: StageContext | None = None) -> pl.DataFrame:
        """``batch`` with ``identity_attack``, ``bias_groups`` and ``bias_<category>`` added."""
        lex = load_lexicon(self.options.lexicon)
        attack = (pl.col("tox_identity_attack").cast(pl.Float64)
                  if "tox_identity_attack" in batch.columns else pl.lit(None, pl.Float64))
        out = batch.with_columns(attack.alias("identity_attack"),
                                 self.mentions().alias("bias_groups"))
        return out.with_columns([category_expr(pl.col("bias_groups"), c).alias(f"bias_{c}")
                                 for c in lex.categories])

    def check_input(self, df: pl.DataFrame, ctx: StageContext) -> None:
        if "toxicity" not in df.columns:
            raise StageError(f"{self.id} needs the toxicity scores of safety.toxicity: add "
                             "`- use: safety.toxicity` before it in the recipe")
        clash = sorted(set(self.columns_written()) & set(df.columns))
        if clash:
            raise StageError(f"{self.id}: the input already has columns {clash}")
        # the thresholds the driver reports: the scale of the input's scores (the copies
        # that decide on workers resolve the same in checks())
        self._scorer = scorers.scorer_of_columns(df.columns)

    def checks(self, columns: list[str]) -> list[tuple[str, pl.Expr]]:
        self._scorer = scorers.scorer_of_columns(columns)
        attack_max, group_max = (self._resolve("identity_attack_max"),
                                 self._resolve("group_toxicity_max"))
        mentions = pl.col("bias_groups").list.len() > 0
        checks = []
        if attack_max is not None:
            checks.append(("identity_attack", pl.col("identity_attack") > attack_max))
        if group_max is not None:
            checks.append(("toxic_about_group", mentions & (pl.col("toxicity") > group_max)))
        return checks

    def refine(self, decided: pl.DataFrame, ctx: StageContext
               ) -> tuple[pl.DataFrame, dict[str, int]]:
        """With ``balance``: drop rows of over-represented groups among the surviving rows."""
        more: dict[str, int] = {}
        if self.options.balance is not None:
            alive = decided[DROP_REASON].is_null()
            over = balance_mask(decided.filter(alive), cap=self.options.balance, seed=ctx.seed)
            positions = alive.arg_true().filter(over)
            flag = pl.zeros(decided.height, pl.Boolean, eager=True).scatter(positions, True)
            decided = decided.with_columns(
                pl.when(flag).then(pl.lit("group_balance")).otherwise(pl.col(DROP_REASON))
                .alias(DROP_REASON))
            more = {"group_balance": int(over.sum())}
        return decided, more

    # -- the audit --------------------------------------------------------------------------
    def stats(self, scored: pl.DataFrame, kept: pl.DataFrame,
              ctx: StageContext) -> dict[str, Any]:
        """This stage's own audit (``"scope": "stage"``; a run replaces it with the run's, see
        :meth:`finish_run`), from the compact rows (no texts: :meth:`finish` adds the examples'
        and writes ``OUT/bias.json``); its per-group counts in the stats."""
        removed = scored.filter(pl.col(DROP_REASON).is_not_null()).select("id", DROP_REASON)
        audit = self.audit(scored, removed, kept["bias_groups"], scope="stage")
        return {"groups": {k: v["records_in"] for k, v in audit["groups"].items()},
                "identity_attack_scored": audit["identity_attack_scored"],
                "bias_json": BIAS_JSON if ctx.out_dir is not None else None, AUDIT: audit}

    def finish(self, output: StageOutput, ctx: StageContext, engine) -> StageOutput:
        """The examples' texts, read from the rejected rows by id; ``OUT/bias.json``."""
        audit = output.stats.pop(AUDIT)
        texts = _texts_by_id(output.rejected.scan(), self._excerpt(), _example_ids(audit))
        _fill_examples(audit, texts)
        if ctx.out_dir is not None:
            _write(ctx.out_dir, audit)
        return output

    def finish_run(self, run) -> dict[str, Any]:
        """The run's audit, once every stage has run (see :mod:`curate.finished_run`):
        mentions and toxicity of the records as they entered the first stage (those an earlier
        stage removed before the toxicity scorer saw them are scored now, with the run's score
        cache), what every stage removed, and what came out. Rewrites ``OUT/bias.json``."""
        me = next(name for name, stage, _ in run.stages if stage is self)
        first = Parts(run.out_dir / run.entries[0]["checkpoint"])
        scorer = None
        if "toxicity" not in first.schema:
            writer = run.stage_writing("toxicity", before=me)
            if writer is None:
                raise StageError(f"{me}: no stage of the run writes the toxicity scores")
            scorer = (writer[1], run.context(writer[0]))
        entered, scored_now = entered_compact(self, first, scorer, run.engine)
        self._scorer = scorers.scorer_of_columns(entered.columns)
        removed = run.removed()
        out = output_groups(self, run)
        audit = self.audit(entered, removed, out, scope="run",
                           stages=[name for name, _, _ in run.stages])
        texts = _texts_by_id(first.scan(), self._excerpt(), _example_ids(audit))
        _fill_examples(audit, texts)
        audit["texts_scored_for_audit"] = scored_now
        _write(run.out_dir, audit)
        flagged = {k: {f: g[f] for f in ("flags", "records_in", "records_out", "removed_rate",
                                          "removal_ratio", "toxic_rate_in", "removed_by")}
                   for k, g in audit["groups"].items() if g["flags"]}
        return {"records_in": audit["overall"]["records_in"],
                "removed_rate": audit["overall"]["removed_rate"],
                "disparity_max": self.options.disparity_max, "flagged": flagged,
                "texts_scored_for_audit": scored_now}

    def audit(self, entered: pl.DataFrame, removed: pl.DataFrame, out_groups: pl.Series, *,
              scope: str, stages: list[str] | None = None) -> dict[str, Any]:
        """The content of ``bias.json``: ``entered`` the scored records in, ``removed`` their
        ``id`` and ``drop_reason`` (and ``stage``) where removed, ``out_groups`` the
        ``bias_groups`` of the records out."""
        o, lex = self.options, load_lexicon(self.options.lexicon)
        toxic_above = self._resolve("audit_toxic_above")
        table = group_audit(entered, removed, out_groups, toxic_above=toxic_above,
                            disparity_max=o.disparity_max, min_records=o.disparity_min_records)
        # flagged groups first, then the most mentioned
        order = sorted(table["groups"], key=lambda k: (not table["groups"][k]["flags"],
                                                       -table["groups"][k]["records_in"], k))
        groups = {k: table["groups"][k] for k in order}
        flagged = [k for k in order if groups[k]["flags"]]
        return {
            "scope": scope,
            "stage": self.id,
            "stages": stages or [self.id],
            "thresholds": self.thresholds(),
            "toxic_above": toxic_above,
            "disparity_max": o.disparity_max,
            "disparity_min_records": o.disparity_min_records,
            "identity_attack_scored": bool(entered["identity_attack"].is_not_null().any()),
            "lexicon": {"path": lex.path, "sources": list(lex.sources),
                        "categories": {c: sorted(g) for c, g in lex.categories.items()}},
            "overall": table["overall"],
            "groups": groups,
            "flagged": flagged,
            "examples": self._examples(entered, removed, flagged),
        }

    def _excerpt(self) -> pl.Expr:
        parts = ["prompt", "response"] if self.options.on == "both" else [self.options.on]
        text = pl.concat_str([part_text(p) for p in parts], separator="\n")
        return text.str.slice(0, EXCERPT_CHARS)

    def _examples(self, entered: pl.DataFrame, removed: pl.DataFrame,
                  flagged: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Up to ``EXAMPLES`` removed records of each flagged group (by id); their ``text`` is
        filled in afterwards from storage (:func:`_fill_examples`): ``entered`` is compact."""
        if not flagged:
            return {}
        rows = (entered.join(removed, on="id")
                .select("id", "bias_groups", "toxicity", DROP_REASON,
                        *(["stage"] if "stage" in removed.columns else []))
                .sort("id"))
        out = {}
        for key in flagged:
            mine = rows.filter(pl.col("bias_groups").list.contains(key)).head(EXAMPLES)
            out[key] = [{"id": r["id"], "stage": r.get("stage"), "reason": r[DROP_REASON],
                         "toxicity": r["toxicity"], "text": None}
                        for r in mine.drop("bias_groups").iter_rows(named=True)]
        return out


def _example_ids(audit: dict[str, Any]) -> list[str]:
    return sorted({e["id"] for rows in audit["examples"].values() for e in rows})


def _texts_by_id(rows: pl.LazyFrame, excerpt: pl.Expr, ids: list[str]) -> dict[str, str]:
    """The excerpts of the records ``ids`` among ``rows``, read in one streaming pass."""
    if not ids:
        return {}
    found = (rows.filter(pl.col("id").is_in(ids)).select("id", excerpt.alias("text"))
             .unique("id", keep="first").collect(engine="streaming"))
    return dict(zip(found["id"], found["text"]))


def _fill_examples(audit: dict[str, Any], texts: dict[str, str]) -> None:
    for rows in audit["examples"].values():
        for row in rows:
            row["text"] = texts.get(row["id"])


def _write(out_dir, audit: dict[str, Any]) -> None:
    (out_dir / BIAS_JSON).write_text(json.dumps(audit, indent=2) + "\n", encoding="utf-8")


def bias(df: pl.DataFrame, **options) -> StageResult:
    """Library form of the ``safety.bias`` stage; ``options`` as in :class:`BiasOptions`."""
    return Bias(BiasOptions(**options)).apply(df, StageContext(name=Bias.id))
