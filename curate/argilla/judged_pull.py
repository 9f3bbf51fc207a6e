"""Judge-human agreement and the people's pairs, on pulling items pushed from a judged run.

An item counts as answered when its annotators' answers resolve to a verdict
(``label_preferred``: chosen, rejected or tie, in the pushed record's terms, which undo the A/B
order; an even split between annotators resolves to nothing and leaves the item unanswered).
For each judge, and for the judges together when there are several, the unit of agreement is
one answered item with two values: the people's verdict and the judge's verdict on the same
two candidates (:func:`curate.argilla.judged.judge_verdicts`); items the judge gave no usable
verdict on are left out. Krippendorff's alpha (nominal) and percent agreement come from
:mod:`.agreement`, with the confusion counts behind them.

The final pair of an answered item follows the people: ``chosen`` is the candidate they
preferred, a tie makes no pair; its ``meta.pair`` is ``{"source": "annotators", "annotators",
"judge_agreed", "candidates": [winner, loser]}`` and its id is the item's id, so that
:func:`merge_pairs` replaces the judges' pair of the same row.

Examples:
    >>> summary, pairs = judge_human(pulled)                     # doctest: +SKIP
    >>> summary["judges"]["local"]["alpha"]                      # doctest: +SKIP
    0.4
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import CurateError
from ..judge import columns as jc
from ..record_schema import RECORD_SCHEMA
from . import agreement as agr
from .judged import PAIR, RIDE_ALONG, VERDICTS, combined_verdict, judge_verdicts, read_judged_run

COMBINED = "judges together"


def has_judged_items(frame: pl.DataFrame) -> bool:
    """Whether a pulled frame holds items pushed with ``--from-judge``."""
    return PAIR in frame.columns and frame.get_column(PAIR).drop_nulls().len() > 0


def _people_pair(row: dict[str, Any], human: str, agreed: bool) -> dict[str, Any]:
    i, j = row[PAIR]
    win, lose = (i, j) if human == "chosen" else (j, i)
    cands = row[jc.CANDIDATES]
    meta = json.loads(row.get("meta") or "{}") or {}
    meta["pair"] = {"source": "annotators", "annotators": list(row["label_annotators"] or []),
                    "judge_agreed": agreed, "candidates": [win, lose]}
    out = {c: row.get(c) for c in RECORD_SCHEMA}
    out.update(kind="preference", chosen=[{"role": "assistant", "content": cands[win]}],
               rejected=[{"role": "assistant", "content": cands[lose]}], chosen_score=None,
               rejected_score=None, meta=json.dumps(meta, ensure_ascii=False))
    out.update({c: row.get(c) for c in RIDE_ALONG})
    return out


def _agreement(units: list[list[str]]) -> dict[str, Any]:
    out = agr.agreement(units, "nominal")
    confusion = Counter(f"{h}/{j}" for h, j in units)
    out["confusion"] = {f"{h}/{j}": confusion.get(f"{h}/{j}", 0)
                        for h in VERDICTS for j in VERDICTS}
    return out


def judge_human(frame: pl.DataFrame) -> tuple[dict[str, Any], pl.DataFrame]:
    """Agreement of each judge with the people's verdicts, and the people's pairs."""
    judged = frame.filter(pl.col(PAIR).is_not_null())
    units: dict[str, list[list[str]]] = {}
    pairs, answered, ties, agreed = [], 0, 0, 0
    for row in judged.iter_rows(named=True):
        human = row.get("label_preferred")
        if human is None:
            continue
        answered += 1
        verdicts = judge_verdicts(row, *row[PAIR])
        for judge, v in verdicts.items():
            if v["verdict"] is not None:
                units.setdefault(judge, []).append([human, v["verdict"]])
        together, _ = combined_verdict(verdicts)
        if together is not None and len(verdicts) > 1:
            units.setdefault(COMBINED, []).append([human, together])
        agreed += together == human
        if human == "tie":
            ties += 1
        else:
            pairs.append(_people_pair(row, human, together == human))
    summary = {"items": judged.height, "answered": answered,
               "unanswered": judged.height - answered, "pairs": len(pairs),
               "ties": ties, "judges_agreed": agreed,
               "judges": {name: _agreement(units[name])
                          for name in sorted(units, key=lambda n: (n == COMBINED, n))}}
    schema = {**RECORD_SCHEMA, **RIDE_ALONG}
    return summary, pl.DataFrame(pairs, schema=schema, orient="row")


def merge_pairs(run: Path, frame: pl.DataFrame, people: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
    """RUN's judge pairs with the items people answered replaced by their pairs (a tie
    removes the judges' pair), and the answered hard cases added."""
    judge_pairs, rejected = read_judged_run(run)
    known = set(judge_pairs.get_column("id")) | set(rejected.get_column("id"))
    judged = frame.filter(pl.col(PAIR).is_not_null())
    items = set(judged.get_column("id"))
    if items and not items & known:
        raise CurateError(f"{run}: none of the {len(items)} pulled items comes from this run; "
                          f"--judged takes the run that was pushed with --from-judge")
    answered = set(judged.filter(pl.col("label_preferred").is_not_null()).get_column("id"))
    kept = judge_pairs.filter(~pl.col("id").is_in(list(answered)))
    merged = pl.concat([kept, people], how="diagonal_relaxed")
    stats = {"run": str(run), "records": merged.height, "from_judges": kept.height,
             "from_annotators": people.height,
             "replaced": len(answered & set(judge_pairs.get_column("id"))),
             "added": people.filter(~pl.col("id").is_in(judge_pairs.get_column("id").to_list())).height,
             "not_in_run": len(items - known)}
    return merged, stats
