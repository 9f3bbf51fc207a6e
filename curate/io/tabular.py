"""Parquet and CSV files as RawRows."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Iterator

from ..errors import InputError, RowError
from .types import RawRow
from .encoding import HINT, UTF8, is_utf8, problem, reason
from .jsonl import reading
from .remote import local_path

CSV_EXPECTED = "CSV with a header row"
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long text fields are normal here


def iter_parquet(path: Path, file: str | None = None, *, batch_size: int = 4096) -> Iterator[RawRow]:
    """Rows of a parquet file; ``line`` is the 1-based row number."""
    import pyarrow.parquet as pq  # startup

    file = file or str(path)
    path = local_path(path)
    if path.stat().st_size == 0:
        raise InputError("empty file, expected a parquet file", file=file)
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow.ArrowInvalid and friends
        raise InputError(f"not a readable parquet file: {exc}", file=file) from None
    n = 0
    for batch in pf.iter_batches(batch_size=batch_size):
        for row in batch.to_pylist():
            n += 1
            yield RawRow(file, n, data=row)


class _Lines:
    """Decoded lines of a byte stream; remembers which physical lines were not valid text."""

    def __init__(self, stream: io.BufferedIOBase, encoding: str = UTF8):
        self.stream, self.bad, self.n, self.offset = stream, {}, 0, 0
        self.encoding = encoding

    def __iter__(self):
        for chunk in self.stream:
            self.n += 1
            if self.n == 1 and is_utf8(self.encoding) and chunk.startswith(b"\xef\xbb\xbf"):
                chunk, self.offset = chunk[3:], 3
            try:
                text = chunk.decode(self.encoding)
            except UnicodeDecodeError as exc:
                self.bad[self.n] = self.offset + exc.start
                text = chunk.decode(self.encoding, "replace")
            self.offset += len(chunk)
            yield text


def iter_csv(path: Path, file: str | None = None, *, encoding: str = UTF8) -> Iterator[RawRow]:
    """Rows of a CSV file with a header; ``line`` is the line where the row starts.

    Values are strings. A row whose field count differs from the header's gives
    RowError("invalid_csv"); a row with bytes that are not UTF-8 (or not ``encoding``) gives
    RowError("invalid_utf8"/"invalid_encoding").
    """
    file = file or str(path)
    with reading(path, file, encoding) as (fh, encoding):
        lines = _Lines(fh, encoding)
        reader = csv.reader(lines)
        try:
            yield from _csv_rows(reader, lines, file)
        except csv.Error as exc:
            raise InputError(f"invalid CSV: {exc}", file=file, line=reader.line_num) from None


def _csv_rows(reader, lines: _Lines, file: str) -> Iterator[RawRow]:
    header, start = None, 1
    for values in reader:
        first, start = start, reader.line_num + 1
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        raw = ",".join(values)
        bad = [lines.bad[i] for i in range(first, reader.line_num + 1) if i in lines.bad]
        if header is None:
            if bad:
                raise InputError(f"{problem(lines.encoding, bad[0])}; {HINT}", file=file,
                                 line=first)
            header = values
        elif bad:
            err = RowError(reason(lines.encoding), problem(lines.encoding, bad[0]))
            yield RawRow(file, first, error=err, raw=raw)
        elif len(values) != len(header):
            err = RowError("invalid_csv",
                           f"expected {len(header)} fields as in the header, got {len(values)}")
            yield RawRow(file, first, error=err, raw=raw)
        else:
            yield RawRow(file, first, data=dict(zip(header, values)))
    if header is None:
        raise InputError(f"empty file, expected {CSV_EXPECTED}", file=file)
