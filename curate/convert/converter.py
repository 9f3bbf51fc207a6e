"""The row logic of conversion: one input file's rows (and documents) into checked records.

A :class:`Converter` reads the rows of one file, keeps the records they make and the rows
that make none (with file, line, field and reason), and hands both on in batches (``take``),
so a file of any size is converted in bounded memory. What only the whole input can decide
(an id given twice in different files, the n-th repeat of identical content) is decided after
every file was converted, from compact keys (:mod:`curate.convert.stream`): here a record
without an id gets its base id (:func:`curate.records.record_id`), and given ids are checked
for repeats only where ``track`` says (all of them by default).
"""

from __future__ import annotations

import json
import os

from ..errors import CurateError, InputError, RowError
from ..io import Document, RawRow
from ..io.encoding import HINT as ENCODING_HINT
from ..io.extract import ERROR_REASONS
from ..records import record_id, validate_record
from .columns import detect_columns
from .dataset import id_source
from .detect import HINTS, detect
from .docs import doc_to_records
from .documents import DocStats
from .mapped import Mapped

REJECTED_COLUMNS = ("file", "line", "field", "drop_reason", "detail", "raw")

# how to go on after a bad input row (the end of its error message)
ON_ERROR_HINT = ("--on-error skip (on_error: skip in a recipe) keeps such rows in rejected/ "
                 "with their reason")

# Well-formed rows that make no record (a tied judgement, a heading that asks nothing): these
# are rejected rows with their reason whatever on_error says; on_error is for malformed input.
NOT_ERRORS = frozenset({"tie", "not_a_question", "empty_answer", "identical_pair",
                        "no_question"}) | ERROR_REASONS  # a document file that gives no text


def to_sft(record: dict) -> dict:
    """A preference record as SFT: the prompt followed by the chosen reply."""
    out = {"kind": "sft", "messages": record["prompt"] + record["chosen"],
           "source": record.get("source"), "meta": record.get("meta", {})}
    if record.get("id"):
        out["id"] = record["id"]
    return out


class Converter:
    """Converts the rows of input files; ``track``: the given ids checked for repeats (None:
    all, as when one process converts everything; a set: only those)."""

    def __init__(self, forced, kind, on_error, limit, columns=None, hint=ON_ERROR_HINT,
                 track: frozenset[str] | None = None, dataset: str | None = None):
        self.dataset = dataset  # the named input's name: mixed into hash ids
        self.forced, self.kind, self.on_error, self.limit = forced, kind, on_error, limit
        self.mapped = Mapped(columns) if columns is not None else None
        self.hint = hint
        self.track = track
        self.columns: dict[str, str] = {}
        self.read = 0
        self.kept: list[dict] = []
        self.lines: list[int] = []  # the input line of each kept record
        self.rejected: dict[str, list] = {c: [] for c in REJECTED_COLUMNS}
        self.formats: dict[str, str] = {}
        self.file_format: dict[str, object] = {}
        self.names: dict[str, tuple[str, str]] = {}
        self.ids: dict[str, int] = {}
        self.docs = DocStats()

    def full(self) -> bool:
        return self.limit is not None and self.read >= self.limit

    def take(self) -> tuple[list[dict], list[int], dict[str, list]]:
        """The records kept so far (with base ids where they had none), their lines, and the
        rejected rows; the converter starts over empty."""
        for rec in self.kept:
            if not rec.get("id"):
                rec["id"] = record_id(id_source(rec["source"], self.dataset), rec)
                rec["__base"] = True
        out = (self.kept, self.lines, self.rejected)
        self.kept, self.lines = [], []
        self.rejected = {c: [] for c in REJECTED_COLUMNS}
        return out

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
        for col, value in zip(REJECTED_COLUMNS, (file, line, err.field, err.reason, err.message,
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
            from .documents import document_items  # optional
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

    def _tracked(self, rid: str) -> bool:
        return self.track is None or rid in self.track

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
            if rec.get("id") and self._tracked(rec["id"]):
                self.ids[rec["id"]] = line
        self.kept.extend(out)
        self.lines.extend([line] * len(out))


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
