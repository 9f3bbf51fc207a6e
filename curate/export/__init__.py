"""Export a record frame to a trainer's format: checked rows, leakage-free splits, a dataset card.

    export(df, out_dir, target="trl-sft") writes, for each split (train, validation, test):
        out_dir/<split>.parquet   out_dir/<split>.jsonl
    and out_dir/README.md, whose ``configs`` front matter lets ``load_dataset(out_dir)`` find them.

Rows the target does not take (another kind, or failing its checks) are not written; they come
back in ``ExportResult.rejected`` with a ``drop_reason`` and are counted in ``skipped``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import CurateError
from ..io import write_jsonl
from .card import render_card
from .split import SPLITS, split_frame
from .targets import REASONS, TARGETS, Target, get_target

__all__ = ["ExportResult", "export", "TARGETS", "REASONS", "SPLITS", "get_target",
           "render_card", "split_frame", "write_jsonl", "Target"]

@dataclass
class ExportResult:
    target: str
    out_dir: Path
    counts: dict[str, int]          # split -> rows written
    skipped: dict[str, int]         # reason -> rows not exported (wrong_kind, empty_turn, ...)
    rejected: pl.DataFrame          # the rows not exported, with drop_reason (empty if none)
    files: list[Path] = field(default_factory=list)

    @property
    def rows_out(self) -> int:
        return sum(self.counts.values())


def export(df: pl.DataFrame, out_dir: Path, *, target: str, test_size: float | int = 0.1,
           validation_size: float | int | None = None, seed: int = 0,
           run_info: dict | None = None, stratify: str | None = "source",
           **target_options: Any) -> ExportResult:
    """Check, split and write ``df`` for ``target``; see the module docstring.

    ``test_size``/``validation_size``: a fraction in (0, 1) of the exported rows (rounded up) or
    a row count >= 1. ``stratify``: the column whose values each keep their share of test rows.
    ``run_info``: provenance for the card (see :mod:`curate.export.card`).
    """
    t = get_target(target)
    options = t.resolve(target_options)
    kept, rejected = t.partition(df, **options)
    skipped = {r: n for r, n in sorted(rejected["drop_reason"].value_counts().iter_rows())}
    if kept.height == 0:
        why = ", ".join(f"{r}: {n}" for r, n in skipped.items()) or "the input is empty"
        raise CurateError(f"nothing to export to {target}: none of the {df.height} rows "
                          f"qualifies ({why})")
    split = split_frame(kept, test_size=test_size, validation_size=validation_size, seed=seed,
                        stratify=stratify)
    out = t.output(kept, **options).with_columns(split)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    files: list[Path] = []
    for name in SPLITS:
        part = out.filter(pl.col("split") == name).drop("split")
        paths = [out_dir / f"{name}.parquet", out_dir / f"{name}.jsonl"]
        if part.height == 0:
            for p in paths:  # a split from an earlier export into this folder
                p.unlink(missing_ok=True)
            continue
        counts[name] = part.height
        _atomic(paths[0], lambda tmp: part.write_parquet(tmp))
        _atomic(paths[1], lambda tmp: write_jsonl(part.iter_rows(named=True), tmp))
        files += paths

    info = dict(run_info or {})
    info["export"] = {"target": target, "rows_in": df.height, "rows_out": out.height,
                      "dropped": skipped, "seed": seed, "test_size": test_size,
                      "validation_size": validation_size,
                      "stratify": stratify if stratify in kept.columns else None,
                      **({"options": options} if options else {})}
    card = out_dir / "README.md"
    text = render_card(target=target, counts=counts, run_info=info)
    _atomic(card, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    files.append(card)
    return ExportResult(target=target, out_dir=out_dir, counts=counts, skipped=skipped,
                        rejected=rejected, files=files)


def _atomic(path: Path, write) -> None:
    """Write through a temporary file next to ``path`` so a crash never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
