"""The rows and documents that the readers yield."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import RowError


@dataclass
class RawRow:
    """One input row. ``line`` is 1-based: the line of a JSONL or CSV file, the element of a
    JSON array or the row of a parquet file or HF dataset. Exactly one of ``data`` and ``error``
    is set; ``raw`` holds the undecodable text of a broken line."""

    file: str
    line: int
    data: dict | None = None
    error: RowError | None = None
    raw: str | None = None


@dataclass
class Document:
    """A raw document for the ``docs`` converter.

    Extracted documents (HTML, PDF, DOCX, EPUB, web archive records; see
    :mod:`curate.io.extract`) are Markdown (``markdown``) and carry ``meta`` for their records
    (``title``, ``url``, ``path``, ``doc_type``) and, for PDFs, where each page starts in
    ``text`` (``page_starts``). A file that gives no document is a Document with ``error`` set
    (its reason: ``unreadable_pdf``, ``encrypted``, ``no_text``, ``not_html``...) and ``line``
    the record of a web archive it stands for (1 for other files)."""

    file: str
    text: str
    meta: dict = field(default_factory=dict)
    markdown: bool = False
    page_starts: list[int] | None = None
    error: RowError | None = None
    line: int = 1
