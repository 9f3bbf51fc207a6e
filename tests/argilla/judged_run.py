"""A synthetic `curate judge` run folder that follows curate/judge/columns.py (pairwise, two
judges j1 and j2), for the --from-judge push and the judged pull.

Rows (pair = the candidates shown, i first; verdicts in chosen(i)/rejected(j)/tie terms):
    p1  kept, both judges prefer 0 over 1, margin 1.0           -> not sent
    p2  kept, 3 candidates, judges disagree on (0, 2)           -> sent: judge_disagreement
        pair (0, 2): j1 chosen, j2 rejected, together tie
    p3  kept, 3 candidates, margin 0.75                         -> sent with hard_margin 0.8
        pair (0, 1): j1 chosen, j2 chosen, together chosen
    r1  rejected tie: both judges tie on (0, 1)                 -> sent: tie
    r2  rejected position_inconsistent: both flip with order    -> sent
        pair (0, 1): j1 tie (a first: chosen, b first: rejected), j2 tie
    r3  rejected below_margin, a preference row                 -> sent
        pair (0, 1): j1 chosen, j2 tie, together tie
    r4  rejected too_few_candidates, r5 equal_texts              -> not sent
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from curate.judge import columns as jc
from curate.record_schema import RECORD_SCHEMA

JUDGES = [{"name": "j1", "model": "judge-one", "backend": "openai"},
          {"name": "j2", "model": "judge-two", "backend": "openai"}]
META_JUDGE = {"mode": "pairwise", "template_version": "judge-v1", "aggregate": "majority",
              "judges": JUDGES}


def comp(judge, a, b, ab, ba):
    verdict = ab if ab == ba else (ab if ba is None else ba if ab is None else "tie")
    return {"judge": judge, "a": a, "b": b, "ab": ab, "ba": ba, "verdict": verdict,
            "consistent": ab == ba or None in (ab, ba)}


def _sft(rid, prompt, cands, comps, scores, *, pair=None, disagree=False, kind="sft"):
    meta = {"judge": META_JUDGE}
    if pair is not None:
        meta["pair"] = {"source": "judge", "judges": JUDGES,
                        "template_version": "judge-v1", "mode": "pairwise",
                        "candidates": list(pair), "margin": scores[pair[0]] - scores[pair[1]]}
    scored = [s for s in scores if s is not None]
    row = {"id": rid, "kind": kind, "source": "synthetic", "meta": json.dumps(meta),
           jc.CANDIDATES: cands, jc.SCORE: scores, jc.COMPARISONS: comps,
           jc.POSITION_INCONSISTENT: any(not c["consistent"] for c in comps),
           jc.DISAGREEMENT: disagree,
           jc.MARGIN: max(scored) - min(scored) if len(scored) >= 2 else None}
    user = [{"role": "user", "content": prompt}]
    if kind == "sft":
        row["messages"] = user + [{"role": "assistant", "content": cands[0]}]
        row["candidates"] = cands
    if pair is not None or kind == "preference":
        first, second = pair or (0, 1)
        row.update(kind="preference", prompt=user,
                   chosen=[{"role": "assistant", "content": cands[first]}],
                   rejected=[{"role": "assistant", "content": cands[second]}])
        if pair is not None:
            row.update(chosen_score=scores[first], rejected_score=scores[second])
    return row


def _frame(rows, extra=None):
    schema = {**RECORD_SCHEMA, **jc.TYPES, "candidates": pl.List(pl.String), **(extra or {})}
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema,
                        orient="row")


def pairs_rows():
    both = [comp("j1", 0, 1, "a", "a"), comp("j2", 0, 1, "a", "a")]
    p2 = [comp(j, 0, 1, "a", "a") for j in ("j1", "j2")] + \
        [comp("j1", 0, 2, "a", "a"), comp("j2", 0, 2, "b", "b")] + \
        [comp(j, 1, 2, "a", "a") for j in ("j1", "j2")]
    p3 = [comp(j, a, b, v, v) for j in ("j1", "j2")
          for a, b, v in ((0, 1, "a"), (0, 2, "a"), (1, 2, "tie"))]
    return [
        _sft("p1", "Name a prime.", ["7 is prime.", "9 is prime."], both, [1.0, 0.0],
             pair=(0, 1)),
        _sft("p2", "Capital of France?", ["Paris.", "Lyon.", "It is Paris, of course."], p2,
             [0.75, 0.5, 0.25], pair=(0, 2), disagree=True),
        _sft("p3", "Say hi.", ["hi", "hello", "hey"], p3, [1.0, 0.25, 0.25], pair=(0, 1)),
    ]


def rejected_rows():
    ties = [comp(j, 0, 1, "tie", "tie") for j in ("j1", "j2")]
    flips = [comp(j, 0, 1, "a", "b") for j in ("j1", "j2")]
    below = [comp("j1", 0, 1, "a", "a"), comp("j2", 0, 1, "tie", "tie")]
    rows = [
        (_sft("r1", "2+2?", ["4", "four"], ties, [0.5, 0.5]), "tie"),
        (_sft("r2", "Best color?", ["Blue.", "Green."], flips, [0.5, 0.5]),
         "position_inconsistent"),
        (_sft("r3", "Sort [3,1].", ["[1, 3]", "[1,3]"], below, [0.75, 0.25],
              kind="preference"), "below_margin"),
        (_sft("r4", "One only.", ["only"], [], [None]), "too_few_candidates"),
        (_sft("r5", "Same?", ["yes", "yes "], [comp("j1", 0, 1, "a", "a")], [1.0, 0.0]),
         "equal_texts"),
    ]
    return [{**r, "drop_reason": reason} for r, reason in rows]


def make_judged_run(root: Path) -> Path:
    """Write the run folder (data.parquet, rejected/, stages/, manifest.json) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("stages", "rejected"):
        (root / sub).mkdir(exist_ok=True)
    pairs = _frame(pairs_rows())
    rejected = _frame(rejected_rows(), {"drop_reason": pl.String})
    pairs.write_parquet(root / "data.parquet")
    pairs.write_parquet(root / "stages" / "02_judge.pairs.parquet")
    rejected.write_parquet(root / "rejected" / "02_judge.pairs.parquet")
    dropped = rejected.get_column("drop_reason").value_counts().iter_rows()
    stages = [
        {"index": 0, "name": "convert", "use": "convert", "status": "done",
         "checkpoint": "stages/00_convert.parquet", "rows_in": 8, "rows_out": 8, "dropped": {}},
        {"index": 1, "name": "judge.llm", "use": "judge.llm", "status": "done",
         "checkpoint": "stages/01_judge.llm.parquet", "rejected": "rejected/01_judge.llm.parquet",
         "rows_in": 8, "rows_out": 8, "dropped": {}},
        {"index": 2, "name": "judge.pairs", "use": "judge.pairs", "status": "done",
         "checkpoint": "stages/02_judge.pairs.parquet",
         "rejected": "rejected/02_judge.pairs.parquet", "rows_in": 8, "rows_out": 3,
         "dropped": dict(dropped), "stats": {"min_margin": 0.5}},
    ]
    (root / "manifest.json").write_text(json.dumps(
        {"name": "judge", "status": "done", "rows_in": 8, "rows_out": 3, "stages": stages}))
    return root
