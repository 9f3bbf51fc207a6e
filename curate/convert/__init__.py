"""Convert a dataset argument (file, folder, run folder, saved HF dataset) into curate records.

Each file's format is forced, read through a column map (``columns=``, see
:mod:`curate.convert.columns`) or detected from its first valid row: a known format by its
keys, else a common shape (question/answer, prompt/response, ...) as a column map. Every record
is checked with :func:`curate.records.validate_record`. A bad row stops the conversion with an
InputError naming file, line and field and the way on (``on_error="raise"``) or becomes a
rejected row (``"skip"``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..errors import CurateError
from ..in_process import InProcess
from ..io import is_record_input
from ..io.encoding import UTF8, check_encoding
from ..io import parts as _parts
from ..io.remote import redact
from .columns import ColumnMap
from .converter import ON_ERROR_HINT
from .detect import FORCED, detect_format
from .file_task import REJECTED_SCHEMA, Settings
from .record_input import convert_record_input
from .stream import PartsResult, convert_files

FORMATS = ("auto", "alpaca", "sharegpt", "openai", "dolly", "hh-rlhf", "alpaca-eval", "records",
           "docs", "alpaca-eval-outputs", "alpaca-eval-annotations", "prompts", "passages",
           "auto+prompts")

__all__ = ["ColumnMap", "ConvertResult", "FORMATS", "ON_ERROR_HINT", "PartsResult",
           "REJECTED_SCHEMA", "convert", "convert_parts", "detect_format", "format_problem",
           "kind_problem"]


@dataclass
class ConvertResult:
    frame: pl.DataFrame      # RECORD_SCHEMA (plus stage columns when read from a record input)
    rejected: pl.DataFrame   # REJECTED_SCHEMA
    rows_in: int             # == frame.height + rejected.height
    formats: dict[str, str] = field(default_factory=dict)  # file -> format used
    columns: dict[str, str] = field(default_factory=dict)  # file -> column map (``columns``)
    # documents read, pages, characters, rejected files (DocStats.as_dict); {} without any
    documents: dict = field(default_factory=dict)


def convert_parts(path: str | Path, kept_dir: str | Path, rejected_dir: str | Path, *,
                  engine=None, format: str = "auto", kind: str | None = None,
                  on_error: str = "raise", limit: int | None = None,
                  columns: ColumnMap | str | dict | None = None, encoding: str = UTF8,
                  hint: str = ON_ERROR_HINT, rows: int | None = None,
                  scratch: str | Path | None = None) -> PartsResult:
    """Read ``path`` and write its records into the part folder ``kept_dir`` and the rows
    that make none into ``rejected_dir`` (see :mod:`curate.convert.stream`), each input file
    read by ``engine.map`` (default: this process) in pieces of at most ``rows`` rows
    (default: :data:`curate.io.parts.PART_ROWS`).

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
    engine = engine or InProcess()
    rows = rows or _parts.PART_ROWS
    kept_dir, rejected_dir = Path(kept_dir), Path(rejected_dir)
    if format in ("auto", "records", "auto+prompts") and is_record_input(path):
        if columns is not None:
            raise CurateError(f"--columns: {redact(str(path))} holds curate records (a run "
                              "folder or records parquet), whose columns are curate's own; "
                              "leave --columns out")

        return convert_record_input(path, kept_dir, rejected_dir, engine=engine, kind=kind,
                                    limit=limit, rows=rows)
    problem = kind_problem(format, kind, columns)
    if problem is not None:
        raise CurateError(f"--kind {problem}")
    settings = Settings(format, kind, on_error, columns, encoding, hint)
    return convert_files(path, kept_dir, rejected_dir, engine=engine, settings=settings,
                         limit=limit, rows=rows, scratch=Path(scratch) if scratch else None)


def convert(path: str | Path, *, format: str = "auto", kind: str | None = None,
            on_error: str = "raise", limit: int | None = None,
            columns: ColumnMap | str | dict | None = None, encoding: str = UTF8,
            hint: str = ON_ERROR_HINT, engine=None,
            rows: int | None = None) -> ConvertResult:
    """Read ``path`` and convert its rows (and documents) into records, as frames in memory
    (for small data; :func:`convert_parts` streams into part folders); see the module doc."""
    with tempfile.TemporaryDirectory(prefix="curate-convert-") as tmp:
        res = convert_parts(path, Path(tmp) / "kept", Path(tmp) / "rejected", engine=engine,
                            format=format, kind=kind, on_error=on_error, limit=limit,
                            columns=columns, encoding=encoding, hint=hint, rows=rows)
        frame, rejected = res.kept.read(), res.rejected.read()
    return ConvertResult(frame, rejected, res.rows_in, res.formats, res.columns, res.documents)


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
