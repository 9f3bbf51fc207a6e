"""Text encodings of input files: UTF-8 by default, any Python codec with ``--encoding``.

Encodings in which the bytes of ``\\n``, ``,``, ``"`` and the JSON brackets are their ASCII bytes
(latin-1, cp1252, shift_jis, ...) are decoded line by line, so a bad byte is an error of its
line. Others (utf-16, utf-32) are decoded whole and read as UTF-8. A file read as UTF-8 (the
default) that starts with a UTF-16 or UTF-32 byte order mark is read in that encoding: those
bytes are never UTF-8 text, and the mark says which encoding wrote them.
"""

from __future__ import annotations

import codecs
import io
from typing import IO

from ..errors import CurateError, InputError

UTF8 = "utf-8"
HINT = "if the file is in another encoding, name it with --encoding (e.g. --encoding latin-1)"
_ASCII_PROBE = '\n\r,"{}[]:'


def check_encoding(encoding: str | None) -> str:
    """The codec's canonical name; CurateError for an unknown one."""
    try:
        return codecs.lookup(encoding or UTF8).name
    except LookupError:
        raise CurateError(f"unknown encoding {encoding!r}; give a Python codec name such as "
                          "utf-8, latin-1, cp1252, utf-16") from None


def is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == UTF8


def ascii_compatible(encoding: str) -> bool:
    try:
        return _ASCII_PROBE.encode(encoding) == _ASCII_PROBE.encode("ascii")
    except UnicodeError:
        return False


def reason(encoding: str) -> str:
    """The drop reason of a line that is not text in ``encoding``."""
    return "invalid_utf8" if is_utf8(encoding) else "invalid_encoding"


def problem(encoding: str, offset: int) -> str:
    """``not valid UTF-8 at byte 19`` (the byte counted from the start of the file)."""
    name = "UTF-8" if is_utf8(encoding) else encoding
    return f"not valid {name} at byte {offset}"


# longest first: the UTF-32 LE mark starts with the UTF-16 LE one
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def bom_encoding(head: bytes) -> str | None:
    """``utf-16`` or ``utf-32`` when ``head`` (a file's first bytes) starts with its byte
    order mark, else None."""
    return next((name for bom, name in _BOMS if head.startswith(bom)), None)


def decode_document(data: bytes, file: str, encoding: str = UTF8) -> str:
    """A whole file's text (a UTF-8 BOM dropped; UTF-16/32 read by their BOM, see the module
    doc); InputError with the line of a bad byte."""
    if is_utf8(encoding):
        encoding = bom_encoding(data[:4]) or encoding
    try:
        return data.decode("utf-8-sig" if is_utf8(encoding) else encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{problem(encoding, exc.start)}; {HINT}", file=file,
                         line=line) from None


def line_stream(fh: IO[bytes], file: str, encoding: str) -> tuple[IO[bytes], str]:
    """``fh`` and the encoding its lines are in: as given when it keeps ASCII's line and
    punctuation bytes, else the whole file decoded and handed on as UTF-8."""
    if is_utf8(encoding):
        peek = getattr(fh, "peek", None)
        if peek is None or bom_encoding(peek(4)[:4]) is None:
            return fh, encoding
    elif ascii_compatible(encoding):
        return fh, encoding
    return io.BytesIO(decode_document(fh.read(), file, encoding).encode(UTF8)), UTF8
