"""Which files a dataset argument covers, and which reader reads each of them."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from ..errors import InputError
from ..record_schema import RECORD_COLUMNS, RECORD_SCHEMA
from ..records import conform
from .docs import DOC_SUFFIXES, is_doc_file, read_file_documents
from .encoding import UTF8
from .formats import ROW_SUFFIXES, is_readable_name, row_suffix
from .hf_disk import is_hf_dataset, is_hf_dataset_dict, iter_hf, splits
from .json_array import iter_json
from .jsonl import iter_jsonl
from .owned import folder_kind, ignored_beside_run
from .parts import Parts, part_files
from .remote import RemoteFile, is_url, list_files, local_folder, local_path, record_files, redact
from .tabular import iter_csv, iter_parquet
from .types import Document, RawRow

_BY_FORMAT = {"jsonl": iter_jsonl, "ndjson": iter_jsonl, "json": iter_json,
              "parquet": iter_parquet, "csv": iter_csv}
READERS: dict[str, Callable[[Path, str], Iterator[RawRow]]] = {
    suffix: _BY_FORMAT[suffix[1:].removesuffix(".gz")] for suffix in ROW_SUFFIXES}
TEXT_READERS = (iter_jsonl, iter_json, iter_csv)  # the readers that take an ``encoding``
SUPPORTED = ", ".join(list(READERS) + list(DOC_SUFFIXES) + ["a saved HF dataset folder"])


def reader_for(path: Path | RemoteFile) -> Callable[[Path, str], Iterator[RawRow]] | None:
    """The row reader of a file (by extension) or a saved HF dataset folder; None if neither."""
    if path.is_dir():
        return iter_hf if is_hf_dataset(path) else None
    return _reader_by_name(path.name)


def _reader_by_name(name: str) -> Callable[[Path, str], Iterator[RawRow]] | None:
    suffix = row_suffix(name)
    return None if suffix is None else READERS[suffix]


def is_run_folder(path: Path) -> bool:
    """A folder with a run's ``manifest.json`` and ``data.parquet`` (a file, or a folder of
    part files)."""
    return path.is_dir() and (path / "data.parquet").exists() and (
        path / "manifest.json").is_file()


def is_part_folder(path: Path) -> bool:
    """A folder named ``*.parquet`` holding parquet files: a dataset of part files (a run's
    data, checkpoint or rejected rows)."""
    return path.is_dir() and path.name.lower().endswith(".parquet") and bool(part_files(path))


def _walk(folder: Path, out: list[Path]) -> None:
    if is_run_folder(folder):
        _check_run_folder(folder)
        out.extend(part_files(folder / "data.parquet"))
    elif _unfinished_run(folder):
        raise InputError("a run folder without data.parquet: its run did not finish (see "
                         "`curate show`); rerun it, or give one of its stages/*.parquet "
                         "checkpoints", file=str(folder))
    elif is_part_folder(folder):
        out.extend(part_files(folder))
    elif is_hf_dataset_dict(folder):
        out.extend(splits(folder))
    elif is_hf_dataset(folder):
        out.append(folder)
    else:
        for child in sorted(folder.iterdir(), key=lambda p: p.name):
            if child.name.startswith("."):
                continue
            if child.is_dir():
                _walk(child, out)
            elif reader_for(child) is not None or is_doc_file(child):
                out.append(child)


def _check_run_folder(folder: Path) -> None:
    """A run folder stands for its data.parquet: data files of the user's beside it would be
    ignored without a word, so they are an error."""
    ignored = ignored_beside_run(folder)
    if ignored:
        more = f" (and {len(ignored) - 1} more)" if len(ignored) > 1 else ""
        raise InputError(f"a run folder, read as its data.parquet alone, but it also holds "
                         f"{ignored[0]}{more}, which would be ignored; move such files out of "
                         f"the run folder, or give them as their own input", file=str(folder))


def _unfinished_run(folder: Path) -> bool:
    """A folder curate marked as a run folder (or with a run's manifest) but no data.parquet:
    its checkpoints must not be read as if they were a folder of data files."""
    return not (folder / "data.parquet").exists() and folder_kind(folder) == "run"


def input_files(path: str | Path) -> list[Path | RemoteFile]:
    """The files (and saved HF dataset folders) a dataset argument covers, in sorted order.

    A run folder covers its ``data.parquet``; a DatasetDict covers its split folders. Inside a
    folder, hidden entries and files of unknown type are skipped. An fsspec URL (a file, a
    folder or a glob) covers :class:`~curate.io.remote.RemoteFile` entries.
    """
    if is_url(path):
        files = list_files(path, readable=is_readable_name)
        if len(files) == 1 and not is_readable_name(files[0].name):
            raise InputError(f"unsupported file type; supported: {SUPPORTED}", file=str(files[0]))
        return files
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", file=str(path))
    if p.is_file():
        if reader_for(p) is None and not is_doc_file(p):
            raise InputError(f"unsupported file type; supported: {SUPPORTED}", file=str(path))
        return [p]
    out: list[Path] = []
    _walk(p, out)
    if not out:
        raise InputError(f"no readable files in this folder; supported: {SUPPORTED}",
                         file=str(path))
    return out


def iter_rows(path: str | Path, *, skip_docs: bool = True,
              encoding: str = UTF8) -> Iterator[RawRow]:
    """The rows of every row file a dataset argument covers, file after file.

    Document files are skipped (``skip_docs``) or an InputError (``skip_docs=False``); they are
    read by :func:`curate.io.iter_documents`.
    """
    files = input_files(path)
    row_files = [f for f in files if not (f.is_file() and is_doc_file(f))]
    if not skip_docs and len(row_files) < len(files):
        doc = next(f for f in files if f not in row_files)
        raise InputError("a document file; read it with the docs format", file=str(doc))
    if not row_files:
        raise InputError("only document files here; read them with the docs format",
                         file=str(path))
    for f in row_files:
        yield from iter_file(f, encoding=encoding)


def iter_file(path: Path | RemoteFile, *, encoding: str = UTF8) -> Iterator[RawRow]:
    """The rows of one entry of :func:`input_files` (not a document); text files are read in
    ``encoding``."""
    reader = reader_for(path)
    if reader is None:
        raise InputError(f"unsupported file type; supported: {SUPPORTED}", file=str(path))
    if reader in TEXT_READERS:
        yield from reader(path, str(path), encoding=encoding)
    else:
        yield from reader(path, str(path))


def is_record_input(path: str | Path) -> bool:
    """A run folder, or parquet (a file or a folder of part files) whose columns include all
    of RECORD_COLUMNS."""
    if is_url(path):
        files = record_files(path)
        if not files:
            return False
        return _has_record_columns(local_path(files[0]))
    p = Path(path)
    if is_run_folder(p):
        return True
    if not (p.is_file() and p.name.lower().endswith(".parquet") or is_part_folder(p)):
        return False

    return _has_record_columns(part_files(p)[0])


def _has_record_columns(file: Path) -> bool:
    import pyarrow as pa  # startup
    import pyarrow.parquet as pq

    try:
        names = set(pq.read_schema(file).names)
    except (pa.ArrowException, OSError):  # not a parquet file: the row reader will say so
        return False
    return set(RECORD_COLUMNS) <= names


def record_parts(path: str | Path):
    """A record input (run folder, records parquet file or part folder, or such at a URL) as
    :class:`~curate.io.parts.Parts` on local storage (a URL's files downloaded)."""
    if is_url(path):
        files = record_files(path)
        if not files:
            raise InputError("not a records parquet file or run folder", file=redact(path))
        return Parts(local_folder([local_path(f) for f in files]))
    p = Path(path)
    if p.is_dir() and not is_part_folder(p):
        _check_run_folder(p)
        p = p / "data.parquet"
    return Parts(p)


def check_record_schema(schema: pl.Schema | dict, file: str) -> None:
    """InputError unless ``schema`` has every record column."""
    missing = [c for c in RECORD_COLUMNS if c not in schema]
    if missing:
        raise InputError(f"not a records file: missing columns {', '.join(missing)}", file=file)


def as_records(df: pl.DataFrame, file: str) -> pl.DataFrame:
    """Rows of a record input: record columns cast to RECORD_SCHEMA, then any stage columns."""
    check_record_schema(df.schema, file)
    try:  # turns written before the tool fields existed get them null first
        df = conform(df).with_columns(pl.col(c).cast(t) for c, t in RECORD_SCHEMA.items())
    except Exception as exc:  # polars.exceptions.InvalidOperationError
        raise InputError(f"record columns do not match the record schema: {exc}",
                         file=file) from None
    extra = [c for c in df.columns if c not in RECORD_SCHEMA]
    return df.select(*RECORD_COLUMNS, *extra)


def read_records(path: str | Path) -> pl.DataFrame:
    """A record input as a frame (small data; :func:`record_parts` streams)."""
    parts = record_parts(path)
    shown = redact(str(path)) if is_url(path) else str(parts.path)
    try:
        df = parts.read()
    except Exception as exc:  # polars.exceptions.ComputeError and friends
        raise InputError(f"not a readable parquet file: {exc}", file=shown) from None
    return as_records(df, shown)


def record_input_columns(path: str | Path) -> list[str] | None:
    """The columns of a local record input (run folder or records parquet), read from its
    schema only; None for any other input."""
    if is_url(path) or not is_record_input(path):
        return None
    return list(record_parts(path).schema)


def iter_documents(path: str | Path, *, encoding: str = UTF8) -> Iterator[Document]:
    """The documents of a file or folder (recursing, sorted, hidden files skipped); files that
    give none are documents with ``error`` set."""
    files = [f for f in input_files(path) if f.is_file() and is_doc_file(f)]
    if not files:
        raise InputError(f"no document files ({', '.join(DOC_SUFFIXES)}) found", file=str(path))
    for f in files:
        yield from read_file_documents(f, str(f), encoding=encoding)
