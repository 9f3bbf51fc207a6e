"""Several named inputs converted as one dataset, each record marked with its input's name.

    res = convert_inputs([Source("ours", "docs/", format="docs"),
                          Source("alpaca", "alpaca.json", license="cc-by-nc-4.0")],
                         kept_dir, rejected_dir, engine=engine)

The inputs' files are read in order (input by input, file by file) as if they were one
input's files (:mod:`curate.convert.stream`): each with its input's format, column map, kind
and encoding; every record, and every rejected row, gets the column ``dataset``. An id given
twice across inputs is a repeat like one given twice across files; hash ids mix the input's
name in (:func:`curate.convert.dataset.id_source`). Errors name the input before the file.
A record input (a run folder, records parquet) is read as it is, its ``dataset`` set to its
input's name (:mod:`curate.convert.inputs_records`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import CurateError
from ..in_process import InProcess
from ..io import is_record_input
from ..io.encoding import UTF8, check_encoding
from ..io import parts as _parts
from . import format_problem, kind_problem
from .columns import ColumnMap
from .converter import ON_ERROR_HINT
from .dataset import DATASET, INPUT_NAME, named_error
from .inputs_records import convert_with_records
from .named_files import convert_named_files
from .file_task import Settings
from .stream import PartsResult

__all__ = ["DATASET", "Source", "convert_inputs", "parse_named"]


@dataclass(frozen=True)
class Source:
    """One named input: where it is and how its files are read."""

    name: str
    path: str | Path
    format: str = "auto"
    kind: str | None = None
    columns: dict | str | None = None
    encoding: str = UTF8
    license: str | None = None


def convert_inputs(sources: list[Source], kept_dir: str | Path, rejected_dir: str | Path, *,
                   engine=None, on_error: str = "raise", limit: int | None = None,
                   hint: str = ON_ERROR_HINT, rows: int | None = None,
                   scratch: str | Path | None = None) -> PartsResult:
    """Convert ``sources`` into the part folders ``kept_dir`` and ``rejected_dir``, with the
    ``dataset`` column (see the module doc)."""
    if not sources:
        raise CurateError("no inputs given")
    names = [s.name for s in sources]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CurateError(f"input name {twice[0]!r} is given twice; names are unique")
    settings = []
    for s in sources:
        try:
            columns = None if s.columns is None else ColumnMap.parse(s.columns)
            if columns is not None and s.format != "auto":
                raise CurateError(f"a column map does not go with format {s.format} "
                                  "(leave format auto)")
            check_encoding(s.encoding)
            problem = format_problem(s.format) or kind_problem(s.format, s.kind, columns)
            if problem is not None:
                raise CurateError(problem)
            if is_record_input(s.path) and columns is not None:
                raise CurateError(f"{s.path} holds curate records (a run folder or records "
                                  "parquet), whose columns are curate's own; leave columns "
                                  "out")
        except CurateError as exc:
            raise named_error(exc, s.name) from None
        settings.append(Settings(s.format, s.kind, on_error, columns, s.encoding, hint,
                                 dataset=s.name))
    rows = rows or _parts.PART_ROWS
    engine = engine or InProcess()
    if any(is_record_input(s.path) for s in sources):
        return convert_with_records(sources, settings, Path(kept_dir), Path(rejected_dir),
                                    engine=engine, limit=limit, rows=rows,
                                    scratch=Path(scratch) if scratch else None)
    return convert_named_files(sources, settings, Path(kept_dir), Path(rejected_dir),
                               engine=engine, limit=limit, rows=rows,
                               scratch=Path(scratch) if scratch else None)


def parse_named(values: list[str] | tuple[str, ...]) -> list[tuple[str | None, str]]:
    """Dataset arguments as ``(name, path)``: ``NAME=PATH`` names an input, a plain PATH
    (one, alone) is the unnamed input. A CurateError for a mix of both or a repeated name."""
    out: list[tuple[str | None, str]] = []
    for value in values:
        name, sep, path = value.partition("=")
        if sep and INPUT_NAME.match(name) and path and not Path(value).exists():
            out.append((name, path))
        else:
            out.append((None, value))
    plain = [p for n, p in out if n is None]
    if plain and len(out) > 1:
        raise CurateError(f"several inputs need a name each, as NAME=PATH (got {plain[0]})")
    seen: set[str] = set()
    for name, _ in out:
        if name is not None and name in seen:
            raise CurateError(f"input name {name!r} is given twice; names are unique")
        seen.add(name)
    return out

