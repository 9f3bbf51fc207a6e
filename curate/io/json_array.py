"""JSON files: an array of objects, an object holding one list of objects, or JSON Lines."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Iterator

from ..errors import InputError, RowError
from .types import RawRow
from .encoding import UTF8, decode_document
from .jsonl import iter_lines, reading

EXPECTED = "a JSON array of objects (or JSON Lines)"
# Keys whose list of objects is a conversation, not a wrapper around rows.
_CONVERSATION_KEYS = {"messages", "conversations", "chosen", "rejected", "prompt", "history"}


def _rows_of(value: object) -> list | None:
    """The list of rows of a parsed JSON document, or None for a single object."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        lists = [k for k, v in value.items()
                 if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if len(lists) == 1 and lists[0] not in _CONVERSATION_KEYS:
            return value[lists[0]]
        return None
    return None


def iter_json(path: Path, file: str | None = None, *, encoding: str = UTF8) -> Iterator[RawRow]:
    """Rows of a .json file (optionally gzipped); ``line`` is the 1-based element index.

    A single object that is not a wrapper of rows is one row. A document that cannot be parsed
    raises InputError with its line; content that is JSON Lines is read as such.
    """
    file = file or str(path)
    with reading(path, file, encoding) as (fh, encoding):
        data = fh.read()
    if not data.strip():
        raise InputError(f"empty file, expected {EXPECTED}", file=file)
    text = decode_document(data, file, encoding)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and _first_line_parses(text):
            yield from iter_lines(io.BytesIO(data), file, expected=EXPECTED, encoding=encoding)
            return
        raise InputError(f"invalid JSON: {exc.msg} at column {exc.colno}; expected {EXPECTED}",
                         file=file, line=exc.lineno) from None
    rows = _rows_of(value)
    if rows is None:
        if not isinstance(value, dict):
            raise InputError(f"expected {EXPECTED}, got {type(value).__name__}", file=file)
        rows = [value]
    for n, row in enumerate(rows, 1):
        if isinstance(row, dict):
            yield RawRow(file, n, data=row)
        else:
            err = RowError("not_an_object", f"expected a JSON object, got {type(row).__name__}")
            yield RawRow(file, n, error=err, raw=json.dumps(row, ensure_ascii=False))


def _first_line_parses(text: str) -> bool:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    try:
        return isinstance(json.loads(first), dict)
    except json.JSONDecodeError:
        return False
