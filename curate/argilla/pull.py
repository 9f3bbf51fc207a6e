"""Pull the annotators' answers of an Argilla dataset back into curate records.

Output columns (one row per record; curate's record columns are rebuilt from what push stored):
    - label_<Q>_responses: every submitted answer to question Q (list, in label_annotators order)
    - label_<Q>: the resolved answer: majority for labels (None on a tie), mean for ratings (and
      label_<Q>_median), Borda for rankings, the majority non-empty text for text questions
    - label_annotators, label_submitted, label_discarded, label_status (completed | pending |
      discarded: no submitted answer and at least one discard)
    - sft-review: label_messages (a copy of messages whose last reply is the correction, if any)
    - preference: label_a_is (the recorded A/B order), label_preferred (chosen | rejected | tie),
      label_disagreement (annotators gave different answers: flagged, not resolved silently)

SFT reviews become preference pairs (:func:`review_pairs`) where a correction exists (the
correction is chosen over the original reply) or where several reviewed responses to one prompt
have different resolved quality (the best is chosen over the worst).

Examples:
    >>> frame, summary = pull_records(client, dataset="review")       # doctest: +SKIP
    >>> summary["counts"]                                             # doctest: +SKIP
    {'records': 10, 'completed': 6, 'pending': 3, 'discarded': 1}
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import CurateError
from ..record_schema import RECORD_COLUMNS, RECORD_SCHEMA
from ..records import content_hash, records_to_frame
from . import agreement as agr
from ..manifest import versions, write_manifest
from ..report.html import write_report
from .client import ArgillaClient, ArgillaError
from .judged import RIDE_ALONG
from .judged_pull import has_judged_items, judge_human, merge_pairs
from .push import RECORD_KEY
from .settings import question_kinds

LEVEL_OF = {"rating": "ordinal", "label_selection": "nominal", "multi_label_selection": None,
            "ranking": None, "text": None, "span": None}


def _value(kind: str, raw: Any) -> Any:
    if kind == "ranking":
        return [(r["value"], r.get("rank")) for r in raw]
    if kind == "multi_label_selection":
        return sorted(raw)
    return raw


def resolve(kind: str, answers: list[Any]) -> Any:
    """The resolved answer of one question from its submitted answers."""
    if not answers:
        return None
    if kind == "rating":
        return agr.mean([float(a) for a in answers])
    if kind == "ranking":
        order = agr.borda(answers)
        return order
    if kind == "text":
        texts = [a.strip() for a in answers if isinstance(a, str) and a.strip()]
        return agr.majority(texts) if len(set(texts)) > 1 else (texts[0] if texts else None)
    if kind == "multi_label_selection":
        return list(agr.majority([tuple(a) for a in answers]) or []) or None
    return agr.majority(answers)


def _row(record: dict, kinds: dict[str, str], users: dict[str, str], task: str) -> dict:
    meta = record.get("metadata") or {}
    row = json.loads(meta[RECORD_KEY]) if RECORD_KEY in meta else \
        {c: None for c in RECORD_COLUMNS} | {"id": record.get("external_id")}
    responses = record.get("responses") or []
    submitted = [r for r in responses if r["status"] == "submitted"]
    discarded = [r for r in responses if r["status"] == "discarded"]
    row["label_annotators"] = [users.get(r["user_id"], r["user_id"]) for r in submitted]
    row["label_submitted"], row["label_discarded"] = len(submitted), len(discarded)
    row["label_status"] = ("completed" if record.get("status") == "completed"
                           else "discarded" if discarded and not submitted else "pending")
    for q, kind in kinds.items():
        answers = [_value(kind, r["values"][q]["value"]) for r in submitted
                   if (r.get("values") or {}).get(q) is not None]
        row[f"label_{q}_responses"] = [json.dumps(a) if kind == "ranking" else a for a in answers]
        row[f"label_{q}"] = resolve(kind, answers)
        if kind == "ranking" and row[f"label_{q}"] is not None:
            row[f"label_{q}"] = json.dumps(row[f"label_{q}"])
        if kind == "rating":
            row[f"label_{q}_median"] = agr.median([float(a) for a in answers])
    if task == "sft-review":
        fix = row.get("label_correction")
        msgs = [dict(m) for m in row.get("messages") or []]
        if fix and msgs:
            msgs[-1] = {"role": msgs[-1]["role"], "content": fix}
        row["label_messages"] = msgs or None
    if task == "preference":
        a_is = meta.get("a_is")
        row["label_a_is"] = a_is
        answers = row.get("label_preference_responses") or []
        row["label_disagreement"] = len(set(answers)) > 1
        pick = row.get("label_preference")
        b_is = "rejected" if a_is == "chosen" else "chosen"
        row["label_preferred"] = {"a": a_is, "b": b_is, "tie": "tie"}.get(pick) if pick else None
    return row


def _frame(rows: list[dict], kinds: dict[str, str]) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = dict(RECORD_SCHEMA)
    schema.update(label_annotators=pl.List(pl.String), label_submitted=pl.Int64,
                  label_discarded=pl.Int64, label_status=pl.String)
    for q, kind in kinds.items():
        if kind == "rating":
            schema[f"label_{q}_responses"] = pl.List(pl.Int64)
            schema[f"label_{q}"] = pl.Float64
            schema[f"label_{q}_median"] = pl.Float64
        elif kind == "multi_label_selection":
            schema[f"label_{q}_responses"] = pl.List(pl.List(pl.String))
            schema[f"label_{q}"] = pl.List(pl.String)
        else:
            schema[f"label_{q}_responses"] = pl.List(pl.String)
            schema[f"label_{q}"] = pl.String
    extra = {"label_messages": RECORD_SCHEMA["messages"], "label_a_is": pl.String,
             "label_preferred": pl.String, "label_disagreement": pl.Boolean}
    for name, dtype in extra.items():
        if rows and name in rows[0]:
            schema[name] = dtype
    for name, dtype in RIDE_ALONG.items():  # items pushed from a judged run
        if any(name in r for r in rows):
            schema[name] = dtype
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema,
                        orient="row")


def pull_records(client: ArgillaClient, *, dataset: str) -> tuple[pl.DataFrame, dict[str, Any]]:
    """One row per record with every answer and the resolved ones; and a summary with counts
    and agreement per question."""
    ds = client.dataset(dataset)
    questions = client.questions(ds["id"])
    kinds = question_kinds(questions)
    task = (ds.get("metadata") or {}).get("curate_task") or (
        "preference" if "preference" in kinds else "sft-review")
    try:
        users = client.users_by_id()
    except ArgillaError as exc:
        if exc.status != 403:  # only an annotator's key that may not list users is expected
            raise
        users = {}  # answers then keep the user ids
    rows = [_row(r, kinds, users, task) for r in client.records(ds["id"])]
    frame = _frame(rows, kinds)
    status = frame.get_column("label_status")
    counts = {"records": frame.height,
              **{s: int((status == s).sum()) for s in ("completed", "pending", "discarded")}}
    agreement_by_q = {}
    for q, kind in kinds.items():
        level = LEVEL_OF.get(kind)
        if level is not None:
            units = [r[f"label_{q}_responses"] for r in rows]
            agreement_by_q[q] = agr.agreement(units, level)
    summary = {"dataset": dataset, "task": task, "api_url": client.api_url, "counts": counts,
               "agreement": agreement_by_q}
    if task == "preference":
        summary["disagreements"] = int(frame.get_column("label_disagreement").sum() or 0)
    return frame, summary


def review_pairs(frame: pl.DataFrame, *, source: str = "label") -> pl.DataFrame:
    """Preference pairs from pulled SFT reviews (see the module doc), in RECORD_SCHEMA."""
    if "label_messages" not in frame.columns or frame.height == 0:
        return records_to_frame([])
    pairs = []
    rows = [r for r in frame.iter_rows(named=True) if r.get("messages")]
    for r in rows:
        fix = r.get("label_correction")
        if fix and fix.strip() != r["messages"][-1]["content"].strip():
            pairs.append({"kind": "preference", "prompt": r["messages"][:-1],
                          "chosen": [r["label_messages"][-1]], "rejected": [r["messages"][-1]],
                          "source": source, "meta": {"from": [r["id"]], "why": "correction"}})
    by_prompt: dict[str, list[dict]] = {}
    for r in rows:
        if r.get("label_quality") is not None:
            by_prompt.setdefault(content_hash(r["messages"][:-1]), []).append(r)
    for group in by_prompt.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda r: (-r["label_quality"], r["id"]))
        best, worst = group[0], group[-1]
        if best["label_quality"] > worst["label_quality"]:
            pairs.append({"kind": "preference", "prompt": best["messages"][:-1],
                          "chosen": [best["label_messages"][-1]], "rejected": [worst["messages"][-1]],
                          "chosen_score": best["label_quality"],
                          "rejected_score": worst["label_quality"], "source": source,
                          "meta": {"from": [best["id"], worst["id"]], "why": "ranking"}})
    for p in pairs:
        p["id"] = content_hash("pair", p["meta"]["from"], p["meta"]["why"])
    return records_to_frame(pairs)


def write_pull(client: ArgillaClient, *, dataset: str, out: Path,
               judged_run: Path | None = None) -> dict[str, Any]:
    """Pull ``dataset`` into a run folder: data.parquet, pairs.parquet (SFT reviews, or the
    people's pairs of items pushed from a judged run, with judge-human agreement),
    merged.parquet (with ``judged_run``: :func:`.judged_pull.merge_pairs`), manifest.json
    (counts and agreement; never the API key) and report.html."""
    t0 = time.monotonic()
    frame, summary = pull_records(client, dataset=dataset)
    judged = has_judged_items(frame)
    if judged_run is not None and not judged:
        raise CurateError(f"dataset {dataset!r} holds no items pushed with --from-judge; "
                          f"pull it without --judged")
    out.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(out / "data.parquet")
    files = {"data.parquet": "every record with its answers"}
    if summary["task"] == "sft-review":
        pairs = review_pairs(frame, source=f"label:{dataset}")
        pairs.write_parquet(out / "pairs.parquet")
        summary["pairs"] = pairs.height
        files["pairs.parquet"] = "preference pairs from the reviews"
    if judged:
        summary["judge_human"], pairs = judge_human(frame)
        pairs.write_parquet(out / "pairs.parquet")
        files["pairs.parquet"] = "the people's pairs of the items they answered"
    if judged and judged_run is not None:
        merged, summary["merged"] = merge_pairs(judged_run, frame, pairs)
        merged.write_parquet(out / "merged.parquet")
        files["merged.parquet"] = ("the run's judge pairs with the people's answers applied "
                                   "(the file to export)")
    summary["files"] = files
    stage = {"index": 0, "name": "label.pull", "use": "label.pull", "report": "label",
             "status": "done",
             "rows_in": frame.height, "rows_out": frame.height, "dropped": {},
             "seconds": round(time.monotonic() - t0, 3), "stats": summary}
    manifest = {"name": f"label.pull {dataset}", "status": "done", "rows_in": frame.height,
                "rows_out": frame.height, "seed": None, "seconds": stage["seconds"],
                "stages": [stage], "versions": versions(("httpx",)), "label": summary}
    write_manifest(out, manifest)
    write_report(out, manifest)
    return summary
