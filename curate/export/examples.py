"""A few rows each stage removed, per reason, for the dataset card, with toxic text masked.

A run keeps the rows a stage removed in ``rejected/NN_<stage>.parquet`` (named by the stage's
``rejected`` entry in the manifest). :func:`removed_examples` takes the first few rows per
``drop_reason`` (by id, so the card does not change between identical runs) and shows each as a
short one-line excerpt. Text is masked, never shown, when the row's ``drop_reason`` starts with
``toxic`` or its ``toxicity`` score is at least ``toxicity_mask``; a stage may limit how its
removed rows are shown (``pii``: their values as placeholders, ``<EMAIL>``; see
:mod:`curate.report.sections`).

Input columns: ``drop_reason``; ``id``, ``kind``, ``messages``, ``prompt``, ``chosen``, ``raw``,
``detail``, ``file``, ``line`` and ``toxicity`` when present.
Output: ``[{"stage", "reason", "id", "text", "masked"}]``.

Examples:

    >>> removed_examples(Path("exports/demo"), manifest["stages"])[0]["reason"]
    'duplicate_exact'
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import polars as pl

from ..columns import DROP_REASON

_SPACE = re.compile(r"\s+")


def _excerpt(row: dict, max_chars: int, *, stage: dict | None = None) -> str:
    turns = row.get("messages") or (row.get("prompt") or []) + (row.get("chosen") or [])
    if turns:
        text = " / ".join(f"{t.get('role')}: {t.get('content') or ''}" for t in turns)
    else:
        text = str(row.get("raw") or row.get("detail") or "")
    if stage is not None:  # as the stage that removed it allows it to be shown
        from ..report.sections import shown_text  # startup

        text = shown_text(stage, text)
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= max_chars else text[:max_chars - 1].rstrip() + "…"


def is_toxic(row: dict, toxicity_mask: float) -> bool:
    reason = str(row.get(DROP_REASON) or "")
    score = row.get("toxicity")
    return reason.startswith("toxic") or (isinstance(score, (int, float))
                                          and score >= toxicity_mask)


def removed_examples(run_dir: Path, stages: list[dict], *, per_reason: int = 3,
                     max_chars: int = 160, toxicity_mask: float = 0.5) -> list[dict]:
    """Up to ``per_reason`` removed rows per stage and reason, read from the run's rejected/."""
    from ..report.data import collect, columns, scan  # startup

    out: list[dict] = []
    for stage in stages:
        lf = scan(Path(run_dir), stage, "rejected")
        if lf is None or DROP_REASON not in (names := columns(lf)):
            continue
        wanted = [c for c in ("id", "kind", "messages", "prompt", "chosen", "raw", "detail",
                              "file", "line", "toxicity", DROP_REASON) if c in names]
        lf = lf.select(wanted)
        reasons = collect(lf.select(pl.col(DROP_REASON).drop_nulls().unique()))
        for reason in sorted(reasons[DROP_REASON].to_list()):
            first = lf.filter(pl.col(DROP_REASON) == reason)
            if "id" in names:  # the first rows by id: a top-k, not a sort of everything
                first = first.sort("id", nulls_last=True, maintain_order=True)
            for row in collect(first.head(per_reason)).iter_rows(named=True):
                masked = is_toxic(row, toxicity_mask)
                text = _excerpt(row, max_chars, stage=stage)
                where = (f"{row['file']}:{row.get('line')}" if row.get("file") else None)
                out.append({"stage": stage.get("name", "?"), "reason": reason,
                            "id": row.get("id") or where, "masked": masked,
                            "text": f"[masked: {len(text)} characters of toxic text]" if masked
                            else text})
    return out


def render_examples(examples: list[dict]) -> str:
    """The card section: one bullet per example, grouped by stage and reason."""
    lines = ["## Removed examples", "",
             "A few rows each stage removed, per reason (toxic text masked)."]
    current = None
    for ex in examples:
        head = (ex["stage"], ex["reason"])
        if head != current:
            lines += ["", f"**{ex['stage']}: {ex['reason']}**", ""]
            current = head
        ident = f"`{ex['id']}` " if ex.get("id") else ""
        lines.append(f"- {ident}{html.escape(ex['text'], quote=False)}")
    return "\n".join(lines)
