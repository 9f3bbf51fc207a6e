"""Convert a dataset argument (file, folder, run folder, saved HF dataset) into curate records.

Each file's format is forced or detected from its first valid row; every record is checked
with :func:`curate.records.validate_record`. A bad row stops the conversion with an InputError
naming file, line and field (``on_error="raise"``) or becomes a rejected row (``"skip"``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..errors import CurateError, InputError, RowError
from ..io import (Document, RawRow, input_files, is_record_input, iter_file, read_document,
                  read_records)
from ..io.docs import is_doc_file
from ..io.remote import redact
from ..progress import bar
from ..records import MESSAGES, assign_ids, records_to_frame, validate_record
from .detect import FORCED, HINTS, detect, detect_format

FORMATS = ("auto", "alpaca", "sharegpt", "openai", "dolly", "hh-rlhf", "alpaca-eval", "records",
           "docs", "alpaca-eval-outputs", "alpaca-eval-annotations")
REJECTED_SCHEMA = {"file": pl.String, "line": pl.Int64, "field": pl.String,
                   "drop_reason": pl.String, "detail": pl.String, "raw": pl.String}

__all__ = ["ConvertResult", "FORMATS", "REJECTED_SCHEMA", "convert", "detect_format"]


@dataclass
class ConvertResult:
    frame: pl.DataFrame      # RECORD_SCHEMA (plus stage columns when read from a record input)
    rejected: pl.DataFrame   # REJECTED_SCHEMA
    rows_in: int             # == frame.height + rejected.height
    formats: dict[str, str] = field(default_factory=dict)  # file -> format used


def convert(path: str | Path, *, format: str = "auto", kind: str | None = None,
            on_error: str = "raise", limit: int | None = None) -> ConvertResult:
    """Read ``path`` and convert its rows (and documents) into records; see the module doc."""
    if format not in FORMATS:
        raise CurateError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    if kind not in (None, "sft", "preference"):
        raise CurateError(f"unknown kind {kind!r}; expected sft or preference")
    if on_error not in ("raise", "skip"):
        raise CurateError(f"unknown on_error {on_error!r}; expected raise or skip")
    if limit is not None and limit < 0:
        raise CurateError("limit must be 0 or more")
    if format in ("auto", "records") and is_record_input(path):
        return _from_records(path, kind, limit)
    forced = FORCED.get(format)
    if kind == "preference" and (format == "docs" or forced and all(
            f.KIND == "sft" for f in forced)):
        raise CurateError(f"--kind preference needs preference pairs, but format {format} "
                          "only makes SFT records")
    conv = _Converter(forced, kind, on_error, limit)
    found = False
    with bar(total=limit, desc="convert") as progress:
        for entry in input_files(path):
            if conv.full():
                break
            if entry.is_file() and is_doc_file(entry):
                if format in ("auto", "docs"):
                    found = True
                    conv.document(read_document(entry, str(entry)))
            elif format != "docs":
                found = True
                for raw in iter_file(entry):
                    if conv.full():
                        break
                    conv.row(raw)
                    if conv.read % 4096 == 0:
                        progress.update(conv.read - progress.n)
            progress.update(conv.read - progress.n)
    if not found and not conv.full():
        what = "document" if format == "docs" else "row"
        raise InputError(f"no {what} files to read for format {format}", file=str(path))
    return conv.result()


def _from_records(path: str | Path, kind: str | None, limit: int | None) -> ConvertResult:
    """The fast path: a run folder or records parquet, read as is."""
    df = read_records(path)
    if limit is not None:
        df = df.head(limit)
    if kind == "sft":
        pref = pl.col("kind") == "preference"
        none = pl.lit(None, dtype=MESSAGES)
        df = df.with_columns(
            messages=pl.when(pref).then(pl.concat_list("prompt", "chosen"))
            .otherwise(pl.col("messages")),
            prompt=none, chosen=none, rejected=none, chosen_score=pl.lit(None, pl.Float64),
            rejected_score=pl.lit(None, pl.Float64), kind=pl.lit("sft"))
    elif kind == "preference":
        n = df.filter(pl.col("kind") == "sft").height
        if n:
            raise CurateError(f"--kind preference: {redact(str(path))} holds {n} SFT records, "
                              "which have no "
                              "rejected reply")
    file = str(Path(path) / "data.parquet") if Path(path).is_dir() else str(path)
    return ConvertResult(df, pl.DataFrame(schema=REJECTED_SCHEMA), df.height, {file: "records"})


def to_sft(record: dict) -> dict:
    """A preference record as SFT: the prompt followed by the chosen reply."""
    out = {"kind": "sft", "messages": record["prompt"] + record["chosen"],
           "source": record.get("source"), "meta": record.get("meta", {})}
    if record.get("id"):
        out["id"] = record["id"]
    return out


# Well-formed rows that make no record (a tied judgement, a heading that asks nothing): these
# are rejected rows with their reason whatever on_error says; on_error is for malformed input.
NOT_ERRORS = frozenset({"tie", "not_a_question", "empty_answer", "identical_pair"})


class _Converter:
    def __init__(self, forced, kind, on_error, limit):
        self.forced, self.kind, self.on_error, self.limit = forced, kind, on_error, limit
        self.read = 0
        self.kept: list[dict] = []
        self.rejected: dict[str, list] = {c: [] for c in REJECTED_SCHEMA}
        self.formats: dict[str, str] = {}
        self.file_format: dict[str, object] = {}
        self.names: dict[str, tuple[str, str]] = {}
        self.ids: dict[str, int] = {}

    def full(self) -> bool:
        return self.limit is not None and self.read >= self.limit

    def fail(self, file: str, line: int, err: RowError, raw: str | None, fmt=None) -> None:
        if self.on_error == "raise" and err.reason not in NOT_ERRORS:
            hint = f" (reading it as {fmt.NAME})" if fmt is not None else ""
            raise InputError(err.message + hint, file=file, line=line, field=err.field)
        for col, value in zip(REJECTED_SCHEMA, (file, line, err.field, err.reason, err.message,
                                                 raw if raw is not None else "")):
            self.rejected[col].append(value)

    def _format_of(self, file: str, keys: set[str]):
        if self.forced is not None:
            fmt = next((f for f in self.forced if f.matches(keys)), self.forced[-1])
            self.formats.setdefault(file, fmt.NAME)
            return fmt
        fmt = self.file_format.get(file)
        if fmt is None:
            fmt = detect(keys)
            if fmt is None:
                raise RowError("unknown_format", f"cannot tell the format from the keys "
                               f"{', '.join(sorted(keys))}; expected one of: {HINTS}")
            self.file_format[file], self.formats[file] = fmt, fmt.NAME
        elif not fmt.matches(keys):
            fmt = detect(keys) or fmt  # fmt.to_records then names the missing field
        if self.kind == "preference" and fmt.KIND == "sft":
            raise CurateError(f"--kind preference needs preference pairs, but {file} is "
                              f"{fmt.NAME}, which only makes SFT records")
        return fmt

    def row(self, raw: RawRow) -> None:
        self.read += 1
        if raw.error is not None:
            return self.fail(raw.file, raw.line, raw.error, raw.raw)
        data, fmt = raw.data, None
        try:
            fmt = self._format_of(raw.file, set(data))
            self.accept(fmt.to_records(data), raw.file, raw.line, data, fmt.NAME)
        except RowError as err:
            self.fail(raw.file, raw.line, err, json.dumps(data, ensure_ascii=False, default=str),
                      fmt)

    def document(self, doc: Document) -> None:
        try:
            from .docs import doc_to_records
        except ImportError as exc:
            raise CurateError(f"the docs converter is not available: {exc}") from None
        self.formats[doc.file] = "docs"
        for line, item in doc_to_records(doc):
            if self.full():
                return
            self.read += 1
            if isinstance(item, RowError):
                self.fail(doc.file, line, item, "")
                continue
            try:
                self.accept([item], doc.file, line, None, "docs")
            except RowError as err:
                self.fail(doc.file, line, err, json.dumps(item, ensure_ascii=False, default=str))

    def _names(self, file: str) -> tuple[str, str]:
        if file not in self.names:
            self.names[file] = (os.path.basename(file),
                                os.path.basename(os.path.dirname(file)) or file)
        return self.names[file]

    def accept(self, records: list[dict], file: str, line: int, data: dict | None,
               fmt_name: str) -> None:
        """Finish, check and keep the records of one input row (all or none)."""
        base, parent = self._names(file)
        data = data or {}
        out = []
        for rec in records:
            if rec["kind"] == "preference" and self.kind == "sft":
                rec = to_sft(rec)
            elif rec["kind"] == "sft" and self.kind == "preference":
                raise RowError("wrong_kind", "an SFT record, but --kind preference keeps only "
                               "preference pairs", field="kind")
            meta = rec.get("meta") or {}
            if data.get("__split__") is not None:
                meta["split"] = data["__split__"]
            meta.update(file=base, line=line, format=fmt_name)
            rec["meta"] = meta
            src = data.get("source")
            if not (isinstance(src, str) and src.strip()):
                src = rec.get("source") or (parent if "__split__" in data else base)
            rec["source"] = src
            if data.get("id") not in (None, ""):
                rec["id"] = str(data["id"])
            validate_record({**rec, "id": rec.get("id") or "-"})
            rid = rec.get("id")
            if rid and rid in self.ids:
                raise RowError("duplicate_id", f"id {rid!r} was already used at line "
                               f"{self.ids[rid]}", field="id")
            out.append(rec)
        for rec in out:
            if rec.get("id"):
                self.ids[rec["id"]] = line
        self.kept.extend(out)

    def result(self) -> ConvertResult:
        frame = records_to_frame(assign_ids(self.kept))
        rejected = pl.DataFrame(self.rejected, schema=REJECTED_SCHEMA)
        return ConvertResult(frame, rejected, frame.height + rejected.height, self.formats)
