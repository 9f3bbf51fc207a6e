"""The hard cases of a judged run, as preference items for people (``label push --from-judge``).

A judged run is the output folder of ``curate judge`` (stages ``judge.llm`` then
``judge.pairs``): ``data.parquet`` holds the pairs the judges made, the ``judge.pairs`` stage's
rejected file the rows it made no pair from, both with the judge columns of
:mod:`curate.judge.columns`. The items sent to people are

- rejected rows with drop reason ``tie``, ``position_inconsistent`` or ``below_margin``;
- pairs whose judges disagree (``judge_disagreement``) or whose ``judge_margin`` is under
  ``hard_margin`` (off at 0: margins are on the judge's scale, 1-10 points or win rates).

Each item is a preference record of the two candidates of the would-be pair (the pair's own
candidates; else best vs. worst by ``judge_score``; for ties the first two): ``chosen`` is the
judges' pick (candidate ``i``), ``rejected`` the other (candidate ``j``). The push shows them as
A/B in the usual random order; the judges' verdict on that pair becomes the suggestion of the
``preference`` question (Argilla 2.8 takes one suggestion per question and record: the
judges' combined verdict, ``agent`` naming them, ``score`` = the share of their order-specific
verdicts that agree with it), and every judge's own verdict is shown in the field ``judges``.
The judge columns, the pair's candidates (``judge_pair``) and why the item was sent
(``judge_hard_reason``) ride along in the stored curate record, so a pull compares the people's
answers with each judge (:mod:`.judged_pull`).

Examples:
    >>> items = hard_cases(Path("runs/judged"), hard_margin=0.2)          # doctest: +SKIP
    >>> items.get_column("judge_hard_reason").value_counts()              # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import CurateError
from ..judge import columns as jc
from ..manifest import read_manifest
from ..record_schema import RECORD_SCHEMA
from . import agreement as agr
from ..columns import DROP_REASON
from ..io.parts import Parts
from .settings import _text_field

PAIRS_STAGE = "judge.pairs"
HARD_REASONS = ("tie", "position_inconsistent", "below_margin")  # of judge.pairs's rejects
PAIR = "judge_pair"  # [i, j]: the candidates shown; i the judges' pick
HARD_REASON = "judge_hard_reason"
JUDGE_FIELD = "judges"
RIDE_ALONG = {**jc.TYPES, PAIR: pl.List(pl.Int32), HARD_REASON: pl.String}
VERDICTS = ("chosen", "rejected", "tie")  # in the pushed record's terms: chosen = candidate i

GUIDELINES = (
    "# Check the judges on hard cases\n\n"
    "An LLM judge compared these two responses and found the choice hard: its verdict was a "
    "tie, flipped when the order of the responses changed, had a small margin, or several "
    "judges disagreed. Read the prompt and the responses **A** and **B** (their order is "
    "random).\n\n"
    "- **preference**: the better response, or *tie* when neither is clearly better. The "
    "judges' verdict is pre-filled as a suggestion and each judge's own verdict is in the "
    "field *judges*: check it, do not just confirm it.\n"
    "- **rationale** (optional): one or two sentences on why.\n\n"
    "Judge helpfulness, correctness and harmlessness; length alone is no merit.")


def read_judged_run(run: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The pairs (``data.parquet``) and the rows ``judge.pairs`` rejected, of a judged run."""
    manifest = read_manifest(run)
    if manifest is None:
        raise CurateError(f"{run}: no readable manifest.json; --from-judge takes the output "
                          f"folder of `curate judge`")
    entry = next((s for s in manifest.get("stages", [])
                  if PAIRS_STAGE in (s.get("use"), s.get("name"))), None)
    if entry is None or entry.get("status") != "done" or not entry.get("rejected"):
        raise CurateError(f"{run}: the run has no finished {PAIRS_STAGE} stage; --from-judge "
                          f"takes the output folder of `curate judge` (with pairs)")

    # a judged run's rows were each judged by an LLM: few enough to read (one file or parts)
    pairs = Parts(run / "data.parquet").read()
    rejected = Parts(run / entry["rejected"]).read()
    for name, frame in (("data.parquet", pairs), (entry["rejected"], rejected)):
        missing = [c for c in (jc.CANDIDATES, jc.SCORE) if c not in frame.columns]
        if missing and frame.height:
            raise CurateError(f"{run / name}: lacks the judge columns {missing}; was it "
                              f"written by `curate judge`?")
    return pairs, rejected


def prompt_turns(row: dict[str, Any]) -> list[dict]:
    """The prompt of a judged row: a preference row's ``prompt``, an SFT row's messages
    without their last (assistant) reply."""
    if row.get("kind") == "sft":
        msgs = list(row.get("messages") or [])
        return msgs[:-1] if msgs and msgs[-1]["role"] == "assistant" else msgs
    return list(row.get("prompt") or [])


def _pair_meta(row: dict[str, Any]) -> dict:
    try:
        meta = json.loads(row.get("meta") or "{}")
    except (TypeError, json.JSONDecodeError):
        return {}
    return (meta or {}).get("pair") or {}


def shown_pair(row: dict[str, Any]) -> tuple[int, int] | None:
    """Candidates (i, j) of the item: the pair's own, else best vs. worst by score, else the
    first two; None with fewer than two candidates."""
    cands = row.get(jc.CANDIDATES) or []
    if len(cands) < 2:
        return None
    own = _pair_meta(row).get("candidates")
    if own and len(own) == 2 and own[0] != own[1]:
        return int(own[0]), int(own[1])
    scored = [(s, k) for k, s in enumerate(row.get(jc.SCORE) or []) if s is not None]
    if len(scored) >= 2:
        best = max(scored, key=lambda t: (t[0], -t[1]))
        worst = min(scored, key=lambda t: (t[0], t[1]))
        if best[0] > worst[0]:
            return best[1], worst[1]
    return 0, 1


def _side(winner: int, i: int) -> str:
    return "chosen" if winner == i else "rejected"


def judge_verdicts(row: dict[str, Any], i: int, j: int) -> dict[str, dict[str, Any]]:
    """Each judge's verdict on candidates (i, j): ``{judge: {"verdict": chosen|rejected|tie|None,
    "orders": [verdict with i shown first, with j shown first] (pairwise)}}``.

    Pairwise: the judge's order-checked ``verdict`` of the comparison of i and j; pointwise:
    the judge's mean score over aspects of i vs. j."""
    out: dict[str, dict[str, Any]] = {}
    for c in row.get(jc.COMPARISONS) or []:
        if {c["a"], c["b"]} != {i, j}:
            continue

        def term(v):
            return None if v is None else "tie" if v == "tie" else _side(c[v], i)
        first_i = c["ab"] if c["a"] == i else c["ba"]
        first_j = c["ba"] if c["a"] == i else c["ab"]
        out[c["judge"]] = {"verdict": term(c["verdict"]),
                           "orders": [term(first_i), term(first_j)]}
    if out:
        return out
    sums: dict[str, dict[int, list[float]]] = {}
    for v in row.get(jc.VOTES) or []:
        if v["candidate"] in (i, j) and v["score"] is not None:
            sums.setdefault(v["judge"], {}).setdefault(v["candidate"], []).append(v["score"])
    for judge, by_cand in sums.items():
        si, sj = agr.mean(by_cand.get(i, [])), agr.mean(by_cand.get(j, []))
        verdict = None if si is None or sj is None else \
            "tie" if si == sj else "chosen" if si > sj else "rejected"
        out[judge] = {"verdict": verdict, "scores": [si, sj]}
    return out


def combined_verdict(verdicts: dict[str, dict[str, Any]]) -> tuple[str | None, float | None]:
    """The judges' majority verdict (no majority: tie) and its confidence: the share of the
    judges' order-specific verdicts (pairwise) or of their verdicts (pointwise) agreeing."""
    votes = [v["verdict"] for v in verdicts.values() if v["verdict"] is not None]
    if not votes:
        return None, None
    verdict = agr.majority(votes) or "tie"
    sides = [o for v in verdicts.values() for o in v.get("orders", [v["verdict"]])
             if o is not None]
    return verdict, sum(o == verdict for o in sides) / len(sides)


def hard_cases(run: Path, *, hard_margin: float = 0.0) -> pl.DataFrame:
    """The items to send to people from a judged run, as preference records with the judge
    columns, ``judge_pair`` and ``judge_hard_reason``."""
    pairs, rejected = read_judged_run(run)
    picked: list[tuple[dict, str]] = []
    if rejected.height and DROP_REASON in rejected.columns:
        for row in rejected.filter(pl.col(DROP_REASON).is_in(HARD_REASONS)).iter_rows(
                named=True):
            picked.append((row, row[DROP_REASON]))
    if pairs.height and jc.SCORE in pairs.columns:
        for row in pairs.iter_rows(named=True):
            if row.get(jc.DISAGREEMENT):
                picked.append((row, "judge_disagreement"))
            elif row.get(jc.MARGIN) is not None and row[jc.MARGIN] < hard_margin:
                picked.append((row, "low_margin"))
    items = []
    for row, reason in picked:
        pair = shown_pair(row)
        if pair is None:
            continue
        i, j = pair
        cands = row[jc.CANDIDATES]
        item = {"id": row["id"], "kind": "preference", "prompt": prompt_turns(row),
                "chosen": [{"role": "assistant", "content": cands[i]}],
                "rejected": [{"role": "assistant", "content": cands[j]}],
                "chosen_score": None, "rejected_score": None,
                "source": row.get("source"), "meta": row.get("meta"),
                PAIR: [i, j], HARD_REASON: reason}
        item.update({c: row.get(c) for c in jc.TYPES})
        items.append(item)
    schema = {**RECORD_SCHEMA, **RIDE_ALONG}
    return pl.DataFrame(items, schema=schema, orient="row")


def _agent(names: list[str]) -> str:
    clean = [re.sub(r"[^a-zA-Z0-9\-_:./]", "_", n) for n in names] or ["judge"]
    return ("judge " + " ".join(clean))[:200]


def _letter(verdict: str | None, a_is: str | None) -> str:
    if verdict in (None, "tie"):
        return "tie"
    return "A" if verdict == a_is else "B"


def judges_text(row: dict[str, Any], a_is: str | None) -> str:
    """What the annotator reads in the field ``judges``: each judge's verdict in A/B terms."""
    i, j = row[PAIR]
    verdicts = judge_verdicts(row, i, j)
    lines = [f"Sent for review: {row[HARD_REASON].replace('_', ' ')}."]
    for judge, v in verdicts.items():
        line = f"- {judge}: {_letter(v['verdict'], a_is) if v['verdict'] else 'no usable answer'}"
        if "orders" in v and len(set(v["orders"])) > 1:  # order-dependent or one side unusable
            first_a, first_b = v["orders"] if a_is == "chosen" else v["orders"][::-1]
            line += (f" (A shown first: {_letter(first_a, a_is) if first_a else '?'}; "
                     f"B shown first: {_letter(first_b, a_is) if first_b else '?'})")
        elif v.get("scores") and None not in v["scores"]:
            sa, sb = v["scores"] if a_is == "chosen" else v["scores"][::-1]
            line += f" (scores A {sa:.2f}, B {sb:.2f})"
        lines.append(line)
    verdict, _ = combined_verdict(verdicts)
    lines.append(f"Judges together: {_letter(verdict, a_is) if verdict else 'no verdict'}")
    return "\n".join(lines)


class JudgeSuggestions:
    """The push extension of judged items (see :class:`curate.argilla.push.ItemExtension`)."""

    fields = [{**_text_field(JUDGE_FIELD, "What the judges said"), "required": False}]
    metadata = [{"name": HARD_REASON, "title": "sent for review because",
                 "visible_for_annotators": True, "settings": {"type": "terms"}}]
    record_columns = tuple(RIDE_ALONG)
    guidelines = GUIDELINES

    def __init__(self, run: Path):
        self.dataset_metadata = {"curate_from_judge": str(run)}

    def extend(self, item: dict, row: dict[str, Any], a_is: str | None,
               question_ids: dict[str, str]) -> None:
        i, j = row[PAIR]
        verdicts = judge_verdicts(row, i, j)
        verdict, confidence = combined_verdict(verdicts)
        item["fields"][JUDGE_FIELD] = judges_text(row, a_is)
        item["metadata"][HARD_REASON] = row[HARD_REASON]
        if verdict is not None and "preference" in question_ids:
            item["suggestions"] = [{
                "question_id": question_ids["preference"], "type": "model",
                "value": "tie" if verdict == "tie" else ("a" if verdict == a_is else "b"),
                "score": float(confidence), "agent": _agent(sorted(verdicts))}]
        else:
            item.pop("suggestions", None)

