"""Judged rows as ``judge.llm`` writes them (the contract of curate/judge/columns.py), built
by hand for the tests of ``judge.pairs``, its report and its exports."""

from __future__ import annotations

import json
from collections import Counter

import polars as pl

from curate.judge import columns as J
from curate.records import assign_ids, records_to_frame

JUDGE = {"name": "local", "model": "smollm2-135m-instruct", "backend": "local"}
TEMPLATE = "judge-v1"


def turns(*pairs: tuple[str, str]) -> list[dict]:
    return [{"role": r, "content": c} for r, c in pairs]


def sft(prompt: str, reply: str = "a reply", **extra) -> dict:
    return {"kind": "sft", "source": "gen", "messages": turns(("user", prompt),
                                                              ("assistant", reply)), **extra}


def pref(prompt: str, chosen: str, rejected: str, **extra) -> dict:
    return {"kind": "preference", "source": "pairs", "prompt": turns(("user", prompt)),
            "chosen": turns(("assistant", chosen)), "rejected": turns(("assistant", rejected)),
            **extra}


def comparison(a: int, b: int, ab: str | None, ba: str | None, judge: str = "local") -> dict:
    """One judge's order-checked verdict on candidates a < b (``ba`` already mapped back)."""
    if ab is None or ba is None:
        verdict, consistent = ab or ba, None
    else:
        verdict, consistent = (ab, True) if ab == ba else ("tie", False)
    return {"judge": judge, "a": a, "b": b, "ab": ab, "ba": ba, "verdict": verdict,
            "consistent": consistent}


def win_rates(k: int, comparisons: list[dict]) -> list[float | None]:
    """judge_score of a pairwise judgement: wins 1, ties and flips 0.5, per comparison."""
    points, seen = Counter(), Counter()
    for c in comparisons:
        if c["verdict"] is None:
            continue
        for side, other in (("a", "b"), ("b", "a")):
            i = c[side]
            seen[i] += 1
            points[i] += 1.0 if c["verdict"] == side else 0.5 if c["verdict"] == "tie" else 0.0
    return [points[i] / seen[i] if seen[i] else None for i in range(k)]


def judged(record: dict, *, scores: list[float | None] | None = None,
           comparisons: list[dict] | None = None, candidates: list[str] | None = None,
           judges: list[dict] | None = None, template: str = TEMPLATE) -> dict:
    """``record`` with judge.llm's columns: pointwise with ``scores``, pairwise with
    ``comparisons`` (scores = win rates). The judged texts: ``candidates``, else the row's
    ``candidates`` column, else its chosen and rejected (preference) or its last reply."""
    texts = candidates or record.get("candidates")
    if texts is None:
        texts = ([record["chosen"][-1]["content"], record["rejected"][-1]["content"]]
                 if record["kind"] == "preference" else [record["messages"][-1]["content"]])
    mode = "pairwise" if comparisons is not None else "pointwise"
    if comparisons is not None:
        scores = win_rates(len(texts), comparisons)
    usable = [s for s in scores or [] if s is not None]
    judges = judges or [JUDGE]
    meta = {**record.get("meta", {}), "judge": {
        "mode": mode, "template_version": template, "aggregate": "mean", "judges": judges}}
    return {**record, "meta": meta, J.CANDIDATES: texts, J.SCORE: scores,
            J.COMPARISONS: comparisons,
            J.POSITION_INCONSISTENT: (None if comparisons is None else
                                      any(c["consistent"] is False for c in comparisons)),
            J.DISAGREEMENT: False,
            J.MARGIN: max(usable) - min(usable) if len(usable) >= 2 else None}


def judged_frame(rows: list[dict]) -> pl.DataFrame:
    """Record columns, ``candidates`` where rows have them, then the judge columns."""
    rows = assign_ids([dict(r) for r in rows])
    df = records_to_frame(rows)
    if any("candidates" in r for r in rows):
        df = df.with_columns(pl.Series("candidates", [r.get("candidates") for r in rows],
                                       dtype=pl.List(pl.String)))
    judge_columns = (J.CANDIDATES, J.SCORE, J.COMPARISONS, J.POSITION_INCONSISTENT,
                     J.DISAGREEMENT, J.MARGIN)
    return df.with_columns(pl.Series(c, [r.get(c) for r in rows], dtype=J.TYPES[c])
                           for c in judge_columns)


def pair_meta(df: pl.DataFrame) -> list[dict]:
    return [json.loads(m)["pair"] for m in df["meta"]]
