"""From judges' answers to a row's judge columns (see :mod:`curate.judge.columns`).

Pairwise: a judge's two answers on a pair (``a`` shown first, then ``b`` shown first) are
order-checked: agreeing answers are its verdict, differing ones a tie that is not
``consistent``, a pair with only one readable answer has no verdict; a candidate's score is its win rate (win 1, tie 0.5) over the comparisons.
With ``aggregate: mean`` every judge's verdict is a comparison; with ``majority`` each pair's
majority verdict over judges is (no majority: tie). Pointwise: a judge's score of a candidate
is its mean over aspects; candidates' scores are the mean (``majority``: the median) over
judges.

Examples:
    >>> order_checked("a", "b"), order_checked("a", "a"), order_checked(None, "b")
    (('tie', False), ('a', True), (None, None))
    >>> candidate_pairs(3, max_pairs_k=4, seed=0)
    [(0, 1), (0, 2), (1, 2)]
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from itertools import combinations
from typing import Any

from ..argilla.agreement import majority

TIE = "tie"


def candidate_pairs(k: int, *, max_pairs_k: int, seed: int) -> list[tuple[int, int]]:
    """Every pair for ``k <= max_pairs_k``; beyond, each candidate against its two neighbours
    on a ring in a seeded shuffled order (``k`` comparisons instead of ``k(k-1)/2``)."""
    if k <= max_pairs_k:
        return list(combinations(range(k), 2))
    order = list(range(k))
    random.Random(seed).shuffle(order)
    ring = {tuple(sorted((order[i], order[(i + 1) % k]))) for i in range(k)}
    return sorted(ring)


def order_checked(ab: str | None, ba: str | None) -> tuple[str | None, bool | None]:
    """A judge's verdict on a pair from its answers in both orders, and whether they agree.

    With only one order readable there is no verdict (None, None): it could not be checked
    against the other order, and no pair may rest on an unchecked verdict."""
    if ab is None or ba is None:
        return None, None
    return (ab, True) if ab == ba else (TIE, False)


def pair_verdicts(comparisons: list[dict]) -> dict[tuple[int, int], str | None]:
    """Each pair's verdict over judges: the majority of their usable verdicts (none usable:
    None; no majority: tie)."""
    by_pair: dict[tuple[int, int], list[str]] = {}
    for c in comparisons:
        votes = by_pair.setdefault((c["a"], c["b"]), [])
        if c["verdict"] is not None:
            votes.append(c["verdict"])
    return {pair: (majority(v) or TIE) if v else None for pair, v in by_pair.items()}


def win_rates(k: int, verdicts: list[tuple[int, int, str | None]]) -> list[float | None]:
    """Each candidate's win rate over the usable verdicts it is part of."""
    points, played = [0.0] * k, [0] * k
    for a, b, verdict in verdicts:
        if verdict is None:
            continue
        played[a] += 1
        played[b] += 1
        if verdict == TIE:
            points[a] += 0.5
            points[b] += 0.5
        else:
            points[a if verdict == "a" else b] += 1.0
    return [points[i] / played[i] if played[i] else None for i in range(k)]


def pairwise_row(k: int, comparisons: list[dict], aggregate: str) -> dict[str, Any]:
    """Scores, flags and margin of a row from its comparisons."""
    if aggregate == "majority":
        verdicts = [(a, b, v) for (a, b), v in pair_verdicts(comparisons).items()]
    else:
        verdicts = [(c["a"], c["b"], c["verdict"]) for c in comparisons]
    by_pair: dict[tuple[int, int], set] = {}
    for c in comparisons:
        if c["verdict"] is not None:
            by_pair.setdefault((c["a"], c["b"]), set()).add(c["verdict"])
    scores = win_rates(k, verdicts)
    return {"scores": scores,
            "inconsistent": any(c["consistent"] is False for c in comparisons),
            "disagreement": any(len(v) > 1 for v in by_pair.values()),
            "margin": margin(scores)}


def _judge_scores(votes: list[dict], judge: str, k: int) -> list[float | None]:
    out = []
    for i in range(k):
        values = [v["score"] for v in votes if v["judge"] == judge and v["candidate"] == i
                  and v["score"] is not None]
        out.append(statistics.fmean(values) if values else None)
    return out


def _over_judges(values: list[float], aggregate: str) -> float | None:
    if not values:
        return None
    return float(statistics.median(values) if aggregate == "majority"
                 else statistics.fmean(values))


def pointwise_row(k: int, votes: list[dict], judges: list[str], aspects: list[str],
                  aggregate: str) -> dict[str, Any]:
    """Scores (per candidate and per aspect), disagreement and margin of a row's votes."""
    per_judge = {j: _judge_scores(votes, j, k) for j in judges}
    scores = [_over_judges([s[i] for s in per_judge.values() if s[i] is not None], aggregate)
              for i in range(k)]
    per_aspect = {}
    for aspect in aspects:
        per_aspect[aspect] = [_over_judges(
            [v["score"] for v in votes if v["aspect"] == aspect and v["candidate"] == i
             and v["score"] is not None], aggregate) for i in range(k)]
    best = set()
    for s in per_judge.values():
        usable = [(x, i) for i, x in enumerate(s) if x is not None]
        if k >= 2 and len(usable) >= 2:
            top = max(x for x, _ in usable)
            best.add(tuple(i for x, i in usable if x == top))
    return {"scores": scores, "aspects": per_aspect, "disagreement": len(best) > 1,
            "margin": margin(scores)}


def margin(scores: list[float | None]) -> float | None:
    usable = [s for s in scores if s is not None]
    return max(usable) - min(usable) if len(usable) >= 2 else None


def first_position_counts(comparisons: list[dict]) -> Counter:
    """Per judge: usable answers, and those that picked the response shown first."""
    counts: Counter = Counter()
    for c in comparisons:
        for shown_first, answer in (("a", c["ab"]), ("b", c["ba"])):
            if answer is not None:
                counts[(c["judge"], "usable")] += 1
                counts[(c["judge"], "first")] += answer == shown_first
    return counts
