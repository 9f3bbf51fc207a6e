"""Convert a dataset argument (file, folder, run folder, saved HF dataset) into curate records.

Each file's format is forced, read through a column map (``columns=``, see
:mod:`curate.convert.columns`) or detected from its first valid row: a known format by its
keys, else a common shape (question/answer, prompt/response, ...) as a column map. Every record
is checked with :func:`curate.records.validate_record`. A bad row stops the conversion with an
InputError naming file, line and field and the way on (``on_error="raise"``) or becomes a
rejected row (``"skip"``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..errors import CurateError, InputError, RowError
from ..io import (Document, RawRow, input_files, is_record_input, iter_file, read_records)
from ..io.docs import is_doc_file, read_file_documents
from ..io.extract import ERROR_REASONS
from ..io.encoding import HINT as ENCODING_HINT
from ..io.encoding import UTF8, check_encoding
from ..io.remote import redact
from ..progress import bar
from ..records import MESSAGES, assign_ids, records_to_frame, validate_record
from .columns import ColumnMap, detect_columns
from .detect import FORCED, HINTS, detect, detect_format
from .documents import DocStats, document_items
from .mapped import Mapped

FORMATS = ("auto", "alpaca", "sharegpt", "openai", "dolly", "hh-rlhf", "alpaca-eval", "records",
           "docs", "alpaca-eval-outputs", "alpaca-eval-annotations", "prompts", "passages",
           "auto+prompts")
REJECTED_SCHEMA = {"file": pl.String, "line": pl.Int64, "field": pl.String,
                   "drop_reason": pl.String, "detail": pl.String, "raw": pl.String}

# how to go on after a bad input row (the end of its error message)
ON_ERROR_HINT = ("--on-error skip (on_error: skip in a recipe) keeps such rows in rejected/ "
                 "with their reason")

__all__ = ["ColumnMap", "ConvertResult", "FORMATS", "ON_ERROR_HINT", "REJECTED_SCHEMA",
           "convert", "detect_format", "format_problem", "kind_problem"]


@dataclass
class ConvertResult:
    frame: pl.DataFrame      # RECORD_SCHEMA (plus stage columns when read from a record input)
    rejected: pl.DataFrame   # REJECTED_SCHEMA
    rows_in: int             # == frame.height + rejected.height
    formats: dict[str, str] = field(default_factory=dict)  # file -> format used
    columns: dict[str, str] = field(default_factory=dict)  # file -> column map (``columns``)
    # documents read, pages, characters, rejected files (DocStats.as_dict); {} without any
    documents: dict = field(default_factory=dict)


def convert(path: str | Path, *, format: str = "auto", kind: str | None = None,
            on_error: str = "raise", limit: int | None = None,
            columns: ColumnMap | str | dict | None = None, encoding: str = UTF8,
            hint: str = ON_ERROR_HINT) -> ConvertResult:
    """Read ``path`` and convert its rows (and documents) into records; see the module doc.

    ``columns``: a column map for every row file (``"prompt=question,response=answer"``);
    ``encoding``: of the text files; ``hint``: how to go on, ending a bad row's error.
    """
    if columns is not None and not isinstance(columns, ColumnMap):
        columns = ColumnMap.parse(columns)
    if columns is not None and format != "auto":
        raise CurateError(f"--columns reads the rows through the column map; it does not go "
                          f"with --format {format} (leave --format auto)")
    check_encoding(encoding)
    if format_problem(format) is not None:
        raise CurateError(format_problem(format))
    if kind not in (None, "sft", "preference"):
        raise CurateError(f"unknown kind {kind!r}; expected sft or preference")
    if on_error not in ("raise", "skip"):
        raise CurateError(f"unknown on_error {on_error!r}; expected raise or skip")
    if limit is not None and limit < 0:
        raise CurateError("limit must be 0 or more")
    if format in ("auto", "records", "auto+prompts") and is_record_input(path):
        if columns is not None:
            raise CurateError(f"--columns: {redact(str(path))} holds curate records (a run "
                              "folder or records parquet), whose columns are curate's own; "
                              "leave --columns out")
        return _from_records(path, kind, limit)
    problem = kind_problem(format, kind, columns)
    if problem is not None:
        raise CurateError(f"--kind {problem}")
    forced = FORCED.get(format)
    conv = _Converter(forced, kind, on_error, limit, columns, hint)
    found = False
    with bar(total=limit, desc="convert") as progress:
        for entry in input_files(path):
            if conv.full():
                break
            if entry.is_file() and is_doc_file(entry):
                if format in ("auto", "docs", "passages"):
                    found = True
                    for doc in read_file_documents(entry, str(entry), encoding=encoding):
                        if conv.full():
                            break
                        conv.document(doc, passages=format == "passages")
                        progress.update(conv.read - progress.n)
            elif format != "docs":
                found = True
                for raw in iter_file(entry, encoding=encoding):
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


def format_problem(format: str) -> str | None:
    """Why ``format`` is not one convert reads, or None."""
    if format in FORMATS:
        return None
    return f"unknown format {format!r}; expected one of {', '.join(FORMATS)}"


def kind_problem(format: str, kind: str | None, columns: ColumnMap | None = None) -> str | None:
    """Why ``kind`` cannot come out of ``format`` (or the column map), or None: a format or
    map that only makes SFT records gives no preference pairs."""
    if kind != "preference":
        return None
    forced = FORCED.get(format)
    sft_only = format == "docs" or forced and all(f.KIND == "sft" for f in forced) or (
        columns is not None and columns.kind != "preference")
    if not sft_only:
        return None
    what = f"--columns {columns}" if columns is not None else f"format {format}"
    return f"preference needs preference pairs, but {what} only makes SFT records"


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
NOT_ERRORS = frozenset({"tie", "not_a_question", "empty_answer", "identical_pair",
                        "no_question"}) | ERROR_REASONS  # a document file that gives no text


class _Converter:
    def __init__(self, forced, kind, on_error, limit, columns=None, hint=ON_ERROR_HINT):
        self.forced, self.kind, self.on_error, self.limit = forced, kind, on_error, limit
        self.mapped = Mapped(columns) if columns is not None else None
        self.hint = hint
        self.columns: dict[str, str] = {}
        self.read = 0
        self.kept: list[dict] = []
        self.rejected: dict[str, list] = {c: [] for c in REJECTED_SCHEMA}
        self.formats: dict[str, str] = {}
        self.file_format: dict[str, object] = {}
        self.names: dict[str, tuple[str, str]] = {}
        self.ids: dict[str, int] = {}
        self.docs = DocStats()

    def full(self) -> bool:
        return self.limit is not None and self.read >= self.limit

    def fail(self, file: str, line: int, err: RowError, raw: str | None, fmt=None) -> None:
        if self.on_error == "raise" and err.reason not in NOT_ERRORS:
            hint = f" (reading it as {fmt.NAME})" if fmt is not None else ""
            if isinstance(fmt, Mapped):
                hint = f" (columns {fmt.columns})"
            if err.reason == "invalid_utf8":
                hint += f"; {ENCODING_HINT}"
            if err.reason != "unknown_format":
                hint += f"; {self.hint}"
            raise InputError(err.message + hint, file=file, line=line, field=err.field)
        for col, value in zip(REJECTED_SCHEMA, (file, line, err.field, err.reason, err.message,
                                                 raw if raw is not None else "")):
            self.rejected[col].append(value)

    def _format_of(self, file: str, keys: set[str]):
        if self.mapped is not None:
            self.formats.setdefault(file, Mapped.NAME)
            self.columns.setdefault(file, str(self.mapped.columns))
            return self.mapped
        if self.forced is not None:
            fmt = next((f for f in self.forced if f.matches(keys)), self.forced[-1])
            self.formats.setdefault(file, fmt.NAME)
            return fmt
        fmt = self.file_format.get(file)
        if fmt is None:
            fmt = _detect(keys)
            if isinstance(fmt, Mapped):
                self.columns[file] = str(fmt.columns)
            if fmt is None:
                raise RowError("unknown_format", f"cannot tell the format from the keys "
                               f"{', '.join(sorted(keys))}; expected one of: {HINTS}; or say "
                               "which field is which with --columns, e.g. --columns "
                               "prompt=FIELD,response=FIELD (see `curate convert --help`)")
            self.file_format[file], self.formats[file] = fmt, fmt.NAME
        elif not fmt.matches(keys):  # a row of another format: else fmt names the missing field
            fmt = _detect(keys) or fmt
        if self.kind == "preference" and fmt.KIND == "sft":
            name = f"read with columns {fmt.columns}" if isinstance(fmt, Mapped) else fmt.NAME
            raise CurateError(f"--kind preference needs preference pairs, but {file} is "
                              f"{name}, which only makes SFT records")
        return fmt

    def row(self, raw: RawRow) -> None:
        self.read += 1
        if raw.error is not None:
            return self.fail(raw.file, raw.line, raw.error, raw.raw)
        data, fmt = raw.data, None
        try:
            fmt = self._format_of(raw.file, set(data))
            if not isinstance(fmt, Mapped):
                return self.accept(fmt.to_records(data), raw.file, raw.line, data, fmt.NAME)
            row = fmt.row(data)
            if fmt.columns.kind == "docs":
                return self.text_row(raw, fmt, row)
            self.accept(fmt.to_records(row), raw.file, raw.line, row, fmt.NAME)
        except RowError as err:
            self.fail(raw.file, raw.line, err, _dump(data), fmt)

    def text_row(self, raw: RawRow, fmt: Mapped, row: dict) -> None:
        """A ``text`` row read as a document: each question section is a row of its own."""
        from .docs import doc_to_records

        sections = doc_to_records(Document(raw.file, fmt.text(row)))
        if not sections:
            raise RowError("no_question", "no question heading or Q:/A: pair in the text",
                           field=fmt.columns.source("text"))
        self.read += len(sections) - 1
        extra = row["meta"] | ({"row_id": str(row["id"])} if row.get("id") is not None else {})
        for _, item in sections:
            try:
                if isinstance(item, RowError):
                    raise item
                item["meta"] = {**extra, "section": item["meta"]["section"],
                                "heading": item["meta"]["heading"]}
                self.accept([item], raw.file, raw.line, {**row, "id": None}, "docs")
            except RowError as err:
                self.fail(raw.file, raw.line, err, _dump(raw.data), fmt)

    def document(self, doc: Document, passages: bool = False) -> None:
        try:
            from .docs import doc_to_records
        except ImportError as exc:
            raise CurateError(f"the docs converter is not available: {exc}") from None
        self.formats[doc.file] = "passages" if passages else "docs"
        self.docs.add(doc)
        for line, item in document_items(doc, passages):
            if self.full():
                return
            self.read += 1
            if isinstance(item, RowError):
                self.fail(doc.file, line, item, "")
                continue
            try:
                self.accept([item], doc.file, line, None, self.formats[doc.file])
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
        return ConvertResult(frame, rejected, frame.height + rejected.height, self.formats,
                             self.columns, self.docs.as_dict())


def _detect(keys: set[str]):
    """A format module by the keys, else a detected column map; a pair with a prompt-like field
    (``question``, ``chosen``, ``rejected``) is a map rather than hh-rlhf's transcripts."""
    fmt, columns = detect(keys), detect_columns(keys)
    if columns is not None and (fmt is None or fmt.NAME == "hh-rlhf" and columns.kind ==
                                "preference"):
        return Mapped(columns, given=False)
    return fmt


def _dump(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)
