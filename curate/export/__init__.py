"""Export a record frame to a trainer's format: checked rows, leakage-free splits, a dataset card.

    export(df, out_dir, target="trl-sft") writes, for each split (train, validation, test):
        out_dir/<split>.parquet   out_dir/<split>.jsonl    (the formats the target reads)
    the target's side files (axolotl.yaml, dataset_info.json), and out_dir/README.md, whose
    ``configs`` front matter lets ``load_dataset(out_dir)`` find the data files.

Before anything is written, rows pass the target's checks (targets.py, frameworks.py) and are
rendered through a chat template (templates.py). Rows the target does not take are not written;
they come back in ``ExportResult.rejected`` with a ``drop_reason`` and are counted in ``skipped``.

Examples:

    >>> res = export(df, Path("out/dpo"), target="trl-dpo", test_size=0.1, seed=0)
    >>> res.counts, res.skipped
    ({'train': 61, 'test': 7}, {'wrong_kind': 209})
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import CurateError
from ..in_process import InProcess, processes_for
from ..io.owned import check_export_output, export_files, write_marker
from ..io import parts as _parts
from ..io.parts import Parts, write_parts
from . import frameworks  # noqa: F401  (registers axolotl, llama-factory, openai)
from ..columns import DROP_REASON
from ..records import conform
from .card import render_card
from .card_inputs import take_counts
from .checks import REASONS
from .examples import removed_examples
from .folder import CARD, FORMATS, export_names
from .kinds import pick_task, wrong_kind_hint
from .split import SPLITS, split_frame
from .split_plan import decide_split
from .stream import (Plan, check_piece, join_pieces, keep_rejected, pair_sources, write_piece,
                     write_rejected_file)
from .targets import REGISTRY, Target, get_target
from .templates import CHAT_TEMPLATES, check_max_tokens, template_text

TARGETS: tuple[str, ...] = tuple(REGISTRY)

__all__ = ["ExportResult", "export", "export_parts", "TARGETS", "REASONS", "SPLITS", "FORMATS",
           "CHAT_TEMPLATES", "check_writer_options", "get_target", "render_card", "split_frame",
           "Target"]

@dataclass
class ExportResult:
    target: str
    out_dir: Path
    counts: dict[str, int]          # split -> rows written
    skipped: dict[str, int]         # reason -> rows not exported (wrong_kind, empty_turn, ...)
    rejected: pl.DataFrame | Parts  # the rows not exported, with drop_reason (export(): a
    #                                 frame, empty if none; export_parts(): their parts in
    #                                 rejected_dir, or an empty frame)
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)       # what was picked for the user (task)
    hints: dict[str, str] = field(default_factory=dict)  # reason -> how to export those rows

    @property
    def rows_out(self) -> int:
        return sum(self.counts.values())


def export(df: pl.DataFrame, out_dir: Path, *, target: str, test_size: float | int = 0.1,
           validation_size: float | int | None = None, seed: int = 0,
           run_info: dict | None = None, stratify: str | None = "source",
           formats: list[str] | tuple[str, ...] | None = None, chat_template: str = "chatml",
           max_tokens: int | None = None, tokenizer: str | None = None,
           overwrite: bool = False, rejected_file: str | None = None, engine=None,
           **target_options: Any) -> ExportResult:
    """Check, split and write the frame ``df`` for ``target``: :func:`export_parts` on it
    (written to a temporary folder), with the rows not exported as a frame."""
    with tempfile.TemporaryDirectory(prefix="curate-export-") as tmp:
        data = write_parts(conform(df), Path(tmp) / "data.parquet")
        res = export_parts(data, out_dir, target=target, test_size=test_size,
                           validation_size=validation_size, seed=seed, run_info=run_info,
                           stratify=stratify, formats=formats, chat_template=chat_template,
                           max_tokens=max_tokens, tokenizer=tokenizer, overwrite=overwrite,
                           rejected_file=rejected_file, engine=engine,
                           rejected_dir=Path(tmp) / "rejected.parquet", **target_options)
        res.rejected = (res.rejected.read() if isinstance(res.rejected, Parts)
                        else _no_rows(df))
    return res


def _no_rows(df: pl.DataFrame) -> pl.DataFrame:
    return df.head(0).with_columns(pl.lit(None, pl.String).alias(DROP_REASON))


def export_parts(data: Parts, out_dir: Path, *, target: str, test_size: float | int = 0.1,
                 validation_size: float | int | None = None, seed: int = 0,
                 run_info: dict | None = None, stratify: str | None = "source",
                 formats: list[str] | tuple[str, ...] | None = None,
                 chat_template: str = "chatml", max_tokens: int | None = None,
                 tokenizer: str | None = None, overwrite: bool = False,
                 rejected_file: str | None = None, rejected_dir: Path | None = None,
                 engine=None, scratch: Path | None = None, rows: int | None = None,
                 **target_options: Any) -> ExportResult:
    """Check, split and write ``data`` (one parquet file or a folder of parts) for
    ``target`` in streaming passes (:mod:`curate.export.stream`); see the module docstring.

    ``test_size``/``validation_size``: a fraction in (0, 1) of the exported rows (rounded up) or
    a row count >= 1. ``stratify``: the column whose values each keep their share of test rows.
    ``formats``: parquet and/or jsonl (default: every format the target reads).
    ``chat_template``: the shipped template rows are rendered with (chatml, llama-3, zephyr).
    ``max_tokens``/``tokenizer``: drop rows longer than that, counted with a tokenizer that is
    available offline. ``run_info``: provenance for the card (see :mod:`curate.export.card`);
    with a ``run_dir`` (or when ``out_dir`` is ``<run>/export/<target>``) the card shows a few
    removed rows per reason from the run's rejected/ files.

    Only files curate wrote are replaced or removed (the folder's ``.curate.json`` lists them,
    see :mod:`curate.io.owned`): a file of the user's at a name the export writes is a
    CurateError before any work, unless ``overwrite``. ``rejected_file``: where in ``out_dir``
    the rows not exported are written as one file (e.g. ``rejected/export.parquet``);
    ``rejected_dir``: a folder they are written to as parts (``ExportResult.rejected`` is
    then their Parts). ``engine``: runs each pass's pieces (default: this process);
    ``scratch``: a folder for the passes' files (default: a hidden one beside ``out_dir``);
    ``rows``: rows per piece.
    """
    t = get_target(target)
    check_writer_options(target, formats=formats, chat_template=chat_template,
                         max_tokens=max_tokens, tokenizer=tokenizer)
    names = export_names(target) + ([rejected_file] if rejected_file else [])
    check_export_output(out_dir, names, overwrite=overwrite)
    engine = engine or InProcess()
    kinds = _kinds(data) if "task" in t.options and target_options.get("task") is None else None
    target_options, note = pick_task(t, pl.DataFrame({"kind": sorted(kinds or [])},
                                                     schema={"kind": pl.String}),
                                     target_options)
    options = t.resolve(target_options)
    formats = _formats(t, formats)
    out_dir = Path(out_dir)
    parent = out_dir.resolve().parent
    scratch = Path(scratch) if scratch is not None else Path(tempfile.mkdtemp(
        prefix=f".{out_dir.name}.curate-", dir=parent if parent.is_dir() else None))
    plan = Plan(target, options, chat_template, tokenizer, max_tokens, seed, stratify,
                formats, str(scratch))
    try:
        pieces = data.pieces(rows or _parts.PART_ROWS)
        sizes = [p.length for p in pieces]
        workers = processes_for(data.height)  # rendering and row-by-row output
        checked = engine.map(check_piece, [(plan, p) for p in pieces], desc="export check",
                             sizes=sizes, processes=workers)
        skipped_all: Counter = Counter()
        for c in checked:
            skipped_all.update(c["skipped"])
        skipped = dict(sorted(skipped_all.items()))
        wrong = set().union(*(c["wrong_kinds"] for c in checked))
        hint = wrong_kind_hint(t, pl.DataFrame({"kind": sorted(wrong),
                                                DROP_REASON: ["wrong_kind"] * len(wrong)},
                                               schema={"kind": pl.String,
                                                       DROP_REASON: pl.String}), options)
        exported = sum(c["kept"] for c in checked)
        if exported == 0:
            why = ", ".join(f"{r}: {n}" for r, n in skipped.items()) or "the input is empty"
            raise CurateError(f"nothing to export to {target}: none of the {data.height} rows "
                              f"qualifies ({why})" + (f"; the wrong_kind rows are {hint}"
                                                      if hint else ""))
        strata: dict[int, str] = {}
        for c in checked:
            strata.update(c["strata"])
        rules, decided = decide_split(engine, plan.scratch, pieces, [c["kept"] for c in checked],
                                      strata, test_size=test_size,
                                      validation_size=validation_size)
        plan = replace(plan, tools=any(c["tools"] for c in checked))
        written_counts = engine.map(
            write_piece, [(plan, p, rules, d) for p, d in zip(pieces, decided)],
            desc="export write", sizes=[c["kept"] for c in checked], processes=workers)

        out_dir.mkdir(parents=True, exist_ok=True)
        owned = set(export_files(out_dir))
        if overwrite:
            owned |= {n for n in names if (out_dir / n).is_file()}
        # the marker names every file before one is written: an export stopped halfway
        # leaves only files curate may replace
        write_marker(out_dir, {"kind": "export", "target": target,
                               "files": sorted(owned | set(names))})
        counts: dict[str, int] = {}
        for c in written_counts:
            for k, v in c.items():
                counts[k] = counts.get(k, 0) + v
        exported_inputs = take_counts(counts)  # records and tokens per named input
        counts = {name: counts[name] for name in SPLITS if counts.get(name)}
        files: list[Path] = []
        written: dict[str, list[str]] = {}
        for name in counts:
            for ext in formats:
                folder = scratch / "out" / f"{name}.{ext}"
                parts = sorted(folder.iterdir())
                _atomic(out_dir / f"{name}.{ext}",
                        lambda tmp, parts=parts, ext=ext: join_pieces(parts, ext, tmp))
                files.append(out_dir / f"{name}.{ext}")
            written[name] = [f"{name}.{ext}" for ext in formats]
        if t.side_files is not None:
            extra = t.side_files(options, {"files": written, "chat_template": chat_template})
            for fname, text in extra.items():
                _atomic(out_dir / fname,
                        lambda tmp, text=text: tmp.write_text(text, encoding="utf-8"))
                files.append(out_dir / fname)
        pairs: Counter = Counter()
        for c in checked:
            pairs.update(c["pairs"])
        info = dict(run_info or {})
        info["export"] = {"target": target, "rows_in": data.height,
                          "rows_out": sum(counts.values()), "dropped": skipped, "seed": seed,
                          "test_size": test_size, "validation_size": validation_size,
                          "stratify": stratify if any(c["stratified"] for c in checked)
                          else None,
                          "chat_template": chat_template, "max_tokens": max_tokens,
                          "tokenizer": tokenizer, "formats": list(formats),
                          **({"options": options} if options else {})}
        info["pair_sources"] = pair_sources(pairs)  # who decided the pairs written
        if exported_inputs:
            info["exported_inputs"] = exported_inputs
        run_dir = _run_dir(info, out_dir)
        if run_dir is not None and "removed_examples" not in info:
            info["removed_examples"] = removed_examples(run_dir, list(info.get("stages") or []))
        card = out_dir / CARD
        text = render_card(target=target, counts=counts, run_info=info)
        _atomic(card, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        files.append(card)
        if rejected_file and write_rejected_file(scratch, pieces, out_dir / rejected_file):
            files.append(out_dir / rejected_file)
        rejected = keep_rejected(scratch, pieces, rejected_dir) if rejected_dir else None
        _keep_only(out_dir, owned, files, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return ExportResult(target=target, out_dir=out_dir, counts=counts, skipped=skipped,
                        rejected=rejected if rejected is not None else pl.DataFrame(),
                        files=files, notes=[note] if note else [],
                        hints={"wrong_kind": hint} if hint else {})


def _kinds(data: Parts) -> set[str]:
    """The record kinds in ``data`` (one column, read as an aggregate)."""
    if "kind" not in data.schema:
        return set()
    return set(data.scan().select(pl.col("kind").drop_nulls().unique()).collect(
        engine="streaming")["kind"].to_list())


def _keep_only(out_dir: Path, owned: set[str], files: list[Path], target: str) -> None:
    """Remove the files of an earlier export that this one did not write (curate's alone),
    and list in the marker exactly the files written."""
    rels = [f.relative_to(out_dir).as_posix() for f in files]
    for rel in sorted(owned - set(rels)):
        (out_dir / rel).unlink(missing_ok=True)
    rejected_dir = out_dir / "rejected"
    if rejected_dir.is_dir() and not any(rejected_dir.iterdir()):
        rejected_dir.rmdir()
    write_marker(out_dir, {"kind": "export", "target": target, "files": sorted(rels)})


def check_writer_options(target: str, *, formats: list[str] | tuple[str, ...] | None = None,
                         chat_template: str = "chatml", max_tokens: int | None = None,
                         tokenizer: str | None = None) -> None:
    """The options of :func:`export` that are about writing, checked before any row is read
    (CurateError): the target's ``formats``, a shipped ``chat_template``, ``max_tokens``
    with a ``tokenizer``."""
    _formats(get_target(target), formats)
    template_text(chat_template)
    check_max_tokens(max_tokens, tokenizer)


def _formats(t: Target, formats) -> tuple[str, ...]:
    if formats is None:
        return t.formats
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    bad = [f for f in formats if f not in t.formats]
    if bad or not formats:
        raise CurateError(f"target {t.name!r} writes {' and '.join(t.formats)}, not "
                          f"{', '.join(bad) or 'nothing'}")
    return tuple(dict.fromkeys(formats))


def _run_dir(info: dict, out_dir: Path) -> Path | None:
    """The run folder whose rejected/ files the card quotes: ``run_dir``, or the folder two
    levels up when the export sits in ``<run>/export/<target>`` and that run's files exist."""
    if info.get("run_dir"):
        return Path(info["run_dir"])
    stages = info.get("stages") or []
    run = out_dir.resolve().parent.parent
    if out_dir.resolve().parent.name == "export" and any(
            s.get("rejected") and (run / s["rejected"]).is_file() for s in stages):
        return run
    return None


def _atomic(path: Path, write) -> None:
    """Write through a temporary file next to ``path`` so a crash never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
