"""JSON Lines: streamed reading (one RawRow a line) and writing."""

from __future__ import annotations

import gzip
import json
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterable, Iterator

from ..errors import InputError, RowError
from .types import RawRow
from .encoding import UTF8, is_utf8, line_stream, problem, reason
from .remote import local_path

EXPECTED = "JSON Lines (one JSON object per line)"


def open_bytes(path: Path) -> IO[bytes]:
    """A binary handle on ``path`` (a RemoteFile's local copy), decompressed when the name ends
    with ``.gz``."""
    path = local_path(path)
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


@contextmanager
def reading(path: Path, file: str, encoding: str = UTF8) -> Iterator[tuple[IO[bytes], str]]:
    """:func:`open_bytes` and the encoding of its lines (see
    :func:`curate.io.encoding.line_stream`), with a corrupt gzip stream turned into an
    InputError."""
    try:
        with open_bytes(path) as fh:
            yield line_stream(fh, file, encoding)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputError(f"not a readable gzip file: {exc}", file=file) from None


def parse_line(file: str, line: int, text: str) -> RawRow:
    """One JSON Lines line (already decoded) as a RawRow."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        err = RowError("invalid_json", f"invalid JSON: {exc.msg} at column {exc.colno}")
        return RawRow(file, line, error=err, raw=text)
    if not isinstance(value, dict):
        err = RowError("not_an_object",
                       f"expected a JSON object, got {type(value).__name__} ({text[:40]!r})")
        return RawRow(file, line, error=err, raw=text)
    return RawRow(file, line, data=value)


def iter_lines(lines: Iterable[bytes], file: str, *, expected: str = EXPECTED,
               encoding: str = UTF8) -> Iterator[RawRow]:
    """Rows of JSON Lines given as byte lines; blank lines are skipped.

    Each line is decoded strictly (UTF-8 by default); a bad byte gives RowError("invalid_utf8",
    or "invalid_encoding" for another encoding) with its offset in the file. A file with
    nothing but white space raises InputError("empty file").
    """
    offset, seen, utf8 = 0, False, is_utf8(encoding)
    for n, chunk in enumerate(lines, 1):
        start, offset = offset, offset + len(chunk)
        if not chunk.strip():
            continue
        seen = True
        if n == 1 and utf8 and chunk.startswith(b"\xef\xbb\xbf"):
            chunk, start = chunk[3:], start + 3
        try:
            text = chunk.decode(encoding)
        except UnicodeDecodeError as exc:
            err = RowError(reason(encoding), problem(encoding, start + exc.start))
            yield RawRow(file, n, error=err, raw=chunk.decode("utf-8", "replace").rstrip("\r\n"))
            continue
        yield parse_line(file, n, text.rstrip("\r\n"))
    if not seen:
        raise InputError(f"empty file, expected {expected}", file=file)


def iter_jsonl(path: Path, file: str | None = None, *, encoding: str = UTF8) -> Iterator[RawRow]:
    """Stream the rows of a .jsonl/.ndjson file (optionally gzipped)."""
    file = file or str(path)
    with reading(path, file, encoding) as (fh, encoding):
        yield from iter_lines(fh, file, encoding=encoding)


def write_jsonl(rows: Iterable[dict], path: str | Path) -> int:
    """Write rows as UTF-8 JSON Lines, one object a line; returns the number written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str))
            fh.write("\n")
            n += 1
    return n
