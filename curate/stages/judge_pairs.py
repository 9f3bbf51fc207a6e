"""Preference pairs from an LLM judge's scores (stage ``judge.pairs``): the best and the worst
judged candidate of each prompt become its chosen and rejected reply."""

from __future__ import annotations

import json
from typing import Any, Literal

import polars as pl
from pydantic import Field, field_validator

from ..errors import StageError
from ..judge import columns as J
from ..judge.sources import source_label
from ..records import content_hash, parse_meta
from ..text import normalize
from .base import RowScorer, StageContext, StageData, StageOptions, StageOutput

CHOSEN, REJECTED, MARGIN = J.PAIR_CHOSEN, J.PAIR_REJECTED, J.PAIR_MARGIN
_FLAW = "pair_flaw"  # the option-free reasons, decided in score(); dropped from the output
_SIDES = {CHOSEN: pl.Int32, REJECTED: pl.Int32, MARGIN: pl.Float64, _FLAW: pl.String}
# pairs: all — every usable pair of the row, most distant first; dropped from the output
_ALL = "pair_all"
_PAIR = pl.Struct({"chosen": pl.Int32, "rejected": pl.Int32, "margin": pl.Float64})


class JudgePairsOptions(StageOptions):
    """Options of ``judge.pairs``."""

    min_margin: float = Field(0.0, ge=0)
    """A pair needs its judge margin (best minus worst ``judge_score``) above this (and above
    0 always): reason ``below_margin``. On the judge's scale: a pointwise 1-10 rubric's mean,
    or a pairwise win rate in 0-1."""

    pairs: Literal["best_worst", "all"] = "best_worst"
    """Which pairs a prompt gives: ``best_worst``, its best against its worst candidate (one
    record per prompt); ``all``, every pair of its candidates whose margin is above
    ``min_margin`` (texts differ, verdict not order-dependent), the widest keeping the row's
    id (the manifest counts the rows made as ``added``)."""

    @field_validator("pairs", mode="before")
    @classmethod
    def _spelling(cls, value: Any) -> Any:
        return "best_worst" if value == "best-worst" else value


def _text(content: str | None) -> str:
    return normalize(content or "")


def _pair_of(row: dict) -> tuple[int | None, int | None, float | None, str | None]:
    """(best, worst, margin, flaw) of one judged row; ``flaw`` is the reason no pair can be
    made whatever the margin threshold (None when the row may give one)."""
    texts, scores = row.get(J.CANDIDATES), row.get(J.SCORE)
    scored = [(i, s) for i, s in enumerate(scores or []) if s is not None
              and texts is not None and i < len(texts)]
    if len(scored) < 2:
        # two or more judged candidates, but a judge's answers about some could not be read
        unread = texts is not None and len(texts) >= 2 and scores is not None \
            and any(s is None for s in scores[:len(texts)])
        return None, None, None, "unparseable" if unread else "too_few_candidates"
    top, bottom = max(s for _, s in scored), min(s for _, s in scored)
    best = next(i for i, s in scored if s == top)
    # the last of the lowest: with every score equal best and worst still differ (a tie)
    worst = [i for i, s in scored if s == bottom][-1]
    margin = float(top - bottom)
    if _text(texts[best]) == _text(texts[worst]):
        return best, worst, margin, "equal_texts"
    if _order_dependent(row, best, worst, margin):
        return best, worst, margin, "position_inconsistent"
    if margin <= 0:
        return best, worst, margin, "tie"
    return best, worst, margin, None


def _usable_pairs(row: dict) -> list[dict[str, Any]] | None:
    """``pairs: all``: every (better, worse) pair of scored candidates with a margin above 0,
    different texts and a verdict that did not flip with the order; widest first."""
    texts, scores = row.get(J.CANDIDATES) or [], row.get(J.SCORE) or []
    scored = [(i, s) for i, s in enumerate(scores) if s is not None and i < len(texts)]
    out = [{"chosen": i, "rejected": j, "margin": float(si - sj)}
           for i, si in scored for j, sj in scored
           if si > sj and _text(texts[i]) != _text(texts[j])
           and not _order_dependent(row, i, j, si - sj)]
    return sorted(out, key=lambda p: (-p["margin"], p["chosen"], p["rejected"])) or None


def _order_dependent(row: dict, best: int, worst: int, margin: float) -> bool:
    """A judge's verdict between the two candidates flipped with the order they were shown
    in, or the row's scores tie because verdicts flipped."""
    pair = {best, worst}
    for c in row.get(J.COMPARISONS) or []:
        if {c["a"], c["b"]} == pair and c["consistent"] is False:
            return True
    return margin <= 0 and bool(row.get(J.POSITION_INCONSISTENT))


class JudgePairs(RowScorer):
    """Turns judged rows (``judge.llm``'s columns, see :mod:`curate.judge.columns`) into
    preference records: chosen = the best-scored candidate, rejected = the worst.

    Only pairs the judges told apart clearly become training pairs; the others are rejected
    with the would-be pair, for human labeling (``curate label push --from-judge``). Which
    rows make no pair, ``meta.pair`` and stats: README, "Preference pairs from judgements".

    Input columns:
        - kind, messages / prompt, chosen, rejected, meta (``meta.judge``).
        - judge_candidates (list[str]), judge_score (list[f64]); judge_comparisons and
          position_inconsistent where the judge was pairwise.

    Output columns:
        - kind ``preference``, prompt, chosen, rejected, chosen_score, rejected_score,
          meta.pair (kept rows; ``messages`` null).
        - pair_chosen, pair_rejected (i32): the candidates of the (would-be) pair;
          pair_margin (f64): their score difference. Null with fewer than two scores.
        - drop_reason (str): on rejected rows (``too_few_candidates``, ``unparseable``,
          ``equal_texts``, ``position_inconsistent``, ``tie``, ``below_margin``).

    Examples:
        ```python
        from curate.stages.judge_pairs import JudgePairs

        result = JudgePairs({"min_margin": 0.25}).apply(judged)
        result.kept.select("prompt", "chosen", "rejected", "chosen_score", "rejected_score")
        ```

        ```yaml
        - use: judge.llm
        - use: judge.pairs
          with: {min_margin: 1.0}
        export: [{target: trl-dpo}]
        ```
    """

    id = "judge.pairs"
    Options = JudgePairsOptions
    summary = "Make preference pairs (best vs. worst, or all above a margin) from judge scores."
    reads = (J.CANDIDATES, J.SCORE)
    writes = (CHOSEN, REJECTED, MARGIN)
    report_section = "judge_pairs"
    # `curate judge` runs it after judge.llm (--no-pairs leaves it out); flags --min-margin, --pairs
    command, cli_name, cli_prefix, cli_order = "judge", "pairs", "", 20
    options: JudgePairsOptions

    def check_input(self, df: pl.DataFrame, ctx: StageContext) -> None:
        for column in (J.CANDIDATES, J.SCORE, J.COMPARISONS, J.POSITION_INCONSISTENT):
            if column in df.columns and df.schema[column] != J.TYPES[column] \
                    and df.schema[column] != pl.Null:
                raise StageError(f"{self.id}: column {column} is {df.schema[column]}, expected "
                                 f"{J.TYPES[column]} (as judge.llm writes it, see "
                                 "curate/judge/columns.py)")

    def score(self, batch: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        wanted = [c for c in (J.CANDIDATES, J.SCORE, J.COMPARISONS, J.POSITION_INCONSISTENT)
                  if c in batch.columns]
        rows = list(batch.select(wanted).iter_rows(named=True))
        decided = [_pair_of(row) for row in rows]
        batch = batch.with_columns(
            pl.Series(name, [d[i] for d in decided], dtype=dtype)
            for i, (name, dtype) in enumerate(_SIDES.items()))
        if self.options.pairs == "all":
            batch = batch.with_columns(pl.Series(_ALL, [_usable_pairs(r) for r in rows],
                                                 dtype=pl.List(_PAIR)))
        return batch

    def checks(self, columns: list[str]) -> list[tuple[str, pl.Expr]]:
        flaws = [(r, pl.col(_FLAW) == r) for r in J.PAIR_REASONS if r != "below_margin"]
        margin = pl.col(MARGIN)
        if self.options.pairs == "all":  # another usable pair may make up for best-vs-worst
            widest = pl.col(_ALL).list.first().struct.field("margin")
            flaws = [(r, failed & ((r in ("too_few_candidates", "unparseable"))
                                   | widest.is_null()))
                     for r, failed in flaws]
            margin = widest
        return flaws + [("below_margin", (margin > 0) & (margin <= self.options.min_margin))]

    def post(self, kept: pl.DataFrame, rejected: pl.DataFrame, ctx: StageContext
             ) -> tuple[pl.DataFrame, pl.DataFrame, int]:
        """A piece's kept rows become pairs (several per row with ``pairs: all``)."""
        before = kept.height
        kept = kept.drop(_FLAW)
        if self.options.pairs == "all":
            kept = self._every_pair(kept)
        pairs = [_pair_record(row) for row in kept.iter_rows(named=True)]
        records = ("kind", "messages", "prompt", "chosen", "rejected", "chosen_score",
                   "rejected_score", "meta")
        if pairs:
            made = pl.DataFrame(pairs, schema={c: kept.schema[c] for c in records})
            kept = kept.with_columns(made.get_columns())
        return (kept.drop(_ALL, strict=False), rejected.drop(_FLAW, _ALL, strict=False),
                kept.height - before)

    def run(self, data: StageData, ctx: StageContext, engine) -> StageOutput:
        out = super().run(data, ctx, engine)
        metas = out.kept.scan().select("meta").collect()["meta"] if out.rows_out else []
        out.stats.update(_pair_stats([{"meta": m} for m in metas]))
        return out

    def _every_pair(self, kept: pl.DataFrame) -> pl.DataFrame:
        """One row per pair above the margin: the widest keeps the row's id, the others get
        an id from it and their candidates."""
        index, ids, sides = [], [], []
        for k, (rid, usable) in enumerate(kept.select("id", _ALL).iter_rows()):
            for n, p in enumerate(q for q in usable if q["margin"] > self.options.min_margin):
                index.append(k)
                ids.append(rid if n == 0 else content_hash("pair", rid, p["chosen"],
                                                           p["rejected"]))
                sides.append(p)
        return kept[index].with_columns(
            pl.Series("id", ids, pl.String),
            pl.Series(CHOSEN, [p["chosen"] for p in sides], pl.Int32),
            pl.Series(REJECTED, [p["rejected"] for p in sides], pl.Int32),
            pl.Series(MARGIN, [p["margin"] for p in sides], pl.Float64))


def _reply(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _pair_record(row: dict) -> dict[str, Any]:
    """The record columns of the pair a kept judged row gives."""
    best, worst = row[CHOSEN], row[REJECTED]
    texts, scores = row[J.CANDIDATES], row[J.SCORE]
    meta = parse_meta(row.get("meta"))
    judge = meta.get("judge") or {}
    pair: dict[str, Any] = {"source": "judge", "judges": judge.get("judges") or [],
                            "template_version": judge.get("template_version"),
                            "mode": judge.get("mode"), "candidates": [best, worst],
                            "margin": row[MARGIN]}
    if row["kind"] == "preference":
        prompt = row["prompt"]
        own = [row["chosen"], row["rejected"]]
        if not row.get("candidates") and best in (0, 1) and worst in (0, 1):
            chosen, rejected = own[best], own[worst]  # its own replies, turns as they were
        else:
            chosen, rejected = _reply(texts[best]), _reply(texts[worst])
        pair["swapped"] = _joined(rejected) == _joined(row["chosen"])
    else:
        prompt = row["messages"][:-1]
        chosen, rejected = _reply(texts[best]), _reply(texts[worst])
    meta["pair"] = pair
    return {"kind": "preference", "messages": None, "prompt": prompt, "chosen": chosen,
            "rejected": rejected, "chosen_score": scores[best], "rejected_score": scores[worst],
            "meta": json.dumps(meta, ensure_ascii=False, default=str)}


def _joined(turns: list[dict] | None) -> str:
    return _text("\n".join(t["content"] or "" for t in turns or []))


def _pair_stats(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    metas = [parse_meta(p["meta"])["pair"] for p in pairs]
    margins = pl.Series([m["margin"] for m in metas], dtype=pl.Float64)
    sources: dict[str, int] = {}
    for m in metas:
        sources[source_label(m)] = sources.get(source_label(m), 0) + 1
    summary = ({"min": margins.min(), "median": margins.median(), "mean": margins.mean(),
                "max": margins.max()} if len(margins) else {})
    return {"pairs": len(pairs), "swapped": sum(bool(m.get("swapped")) for m in metas),
            "margin": summary, "sources": sources}

