"""The column contract of the judge stages (``judge.llm`` writes, ``judge.pairs`` and
``curate label push --from-judge`` read).

Every judged row holds the texts that were judged, in a fixed order (``judge_candidates``):
an SFT row's ``candidates`` (or its last reply when it has none), a preference row's chosen
then rejected reply (or its ``candidates``). Candidate ``i`` below is ``judge_candidates[i]``.

Columns written by ``judge.llm`` (null on rows it did not judge):

- ``judge_candidates`` list[str]: the judged texts.
- ``judge_score`` list[f64], one per candidate: pointwise, the mean over judges of the mean
  over aspects (on the template's scale, e.g. 1-10); pairwise, the win rate over its
  comparisons (a win 1, a tie or an order-dependent verdict 0.5). Null for a candidate no
  judge gave a usable answer for.
- ``judge_<aspect>`` list[f64] (pointwise): per aspect, the mean over judges
  (``judge_helpfulness``, ``judge_honesty``, ``judge_harmlessness``,
  ``judge_instruction_following`` with the packaged rubric).
- ``judge_votes`` list[VOTE] (pointwise): every judge's score per candidate and aspect.
- ``judge_comparisons`` list[COMPARISON] (pairwise): per judge and candidate pair (a < b),
  the verdict with ``a`` shown first (``ab``) and with ``b`` shown first (``ba``, mapped back
  to a/b), each ``a``, ``b``, ``tie`` or null (unusable answer); ``verdict`` is the judge's
  order-checked verdict: ``ab`` where both orders agree, ``tie`` where they differ (and
  ``consistent`` false), null where only one order gave a usable answer (an unchecked
  verdict counts for nothing); ``verdict`` over judges
  is their majority (no majority: tie).
- ``position_inconsistent`` bool (pairwise): some judge's verdict on some pair of the row
  flipped with the order.
- ``judge_disagreement`` bool: with two or more judges, they differ on the best candidate
  (pointwise) or on some pair's verdict (pairwise); false with one judge.
- ``judge_margin`` f64: best minus worst ``judge_score`` of the row (the margin of the pair
  ``judge.pairs`` builds by default); null with fewer than two scored candidates.
- ``meta.judge``: ``{"mode", "template_version", "aggregate", "judges": [{"name",
  "model", "backend"}]}``.

Rows ``judge.pairs`` keeps become preference records whose ``meta.pair`` names their source:
``{"source": "judge", "judges": [{"name", "model", "backend"}, ...] (as in ``meta.judge``),
"template_version", "mode", "candidates": [i, j], "margin"}`` or, after people answered, ``{"source": "annotators", "annotators": [...],
"judge_agreed": bool}``.
"""

from __future__ import annotations

import polars as pl

CANDIDATES = "judge_candidates"
SCORE = "judge_score"
VOTES = "judge_votes"
COMPARISONS = "judge_comparisons"
POSITION_INCONSISTENT = "position_inconsistent"
DISAGREEMENT = "judge_disagreement"
MARGIN = "judge_margin"
ASPECT_PREFIX = "judge_"

VOTE = pl.Struct({"judge": pl.String, "candidate": pl.Int32, "aspect": pl.String,
                  "score": pl.Float64})
COMPARISON = pl.Struct({"judge": pl.String, "a": pl.Int32, "b": pl.Int32, "ab": pl.String,
                        "ba": pl.String, "verdict": pl.String, "consistent": pl.Boolean})
TYPES: dict[str, pl.DataType] = {
    CANDIDATES: pl.List(pl.String), SCORE: pl.List(pl.Float64), VOTES: pl.List(VOTE),
    COMPARISONS: pl.List(COMPARISON), POSITION_INCONSISTENT: pl.Boolean,
    DISAGREEMENT: pl.Boolean, MARGIN: pl.Float64,
}

# what judge.pairs adds: the candidates of the (would-be) pair and their score difference
PAIR_CHOSEN, PAIR_REJECTED, PAIR_MARGIN = "pair_chosen", "pair_rejected", "pair_margin"

# drop reasons of judge.llm
JUDGE_REASONS = ("judge_failed", "unparseable", "budget_exhausted")
# drop reasons of judge.pairs (the hard cases `label push --from-judge` sends to people)
PAIR_REASONS = ("too_few_candidates", "unparseable", "equal_texts", "position_inconsistent",
                "tie", "below_margin")


def aspect_column(aspect: str) -> str:
    return f"{ASPECT_PREFIX}{aspect}"
