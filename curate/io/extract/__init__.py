"""Raw documents as people have them, read into Markdown :class:`~curate.io.Document` objects
for the ``docs`` and ``passages`` converters: HTML pages (``.html``, ``.htm``, ``.xhtml``),
PDF, DOCX, EPUB, ODT and web archives (``.warc``, ``.warc.gz``: one document per HTML page).

The readers need the ``docs`` extra (``pip install 'curate[docs]'``: lxml, pypdfium2, mammoth,
warcio); without it, reading such a file is a CurateError naming the extra.

:func:`read_documents` is the one entry point: a plain function of one file, picklable, that
yields its documents (one, or one per page of a web archive). A file that gives no text is a
Document with ``error`` set (``not_html``, ``unreadable_pdf``, ``encrypted``, ``no_text``,
``unreadable_docx``, ``unreadable_warc``...): the converter keeps it as a rejected row with that
reason. Each document's ``meta`` holds ``doc_type``, ``path`` (the file as given), ``title``
where the document has one, ``url`` (web archive pages), ``page_count`` (PDF) and ``date``
(archive pages); PDFs also give ``page_starts``, the offset in the text where each page begins
(see :func:`pages_of`).
"""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path
from typing import Iterator

from ...errors import CurateError, RowError
from ..types import Document

EXTRA = "docs"
SUFFIXES = {".html": "html", ".htm": "html", ".xhtml": "html", ".pdf": "pdf", ".docx": "docx",
            ".epub": "epub", ".odt": "odt", ".warc": "warc", ".warc.gz": "warc"}
ERROR_REASONS = frozenset({"not_html", "unreadable_pdf", "encrypted", "no_text",
                           "unreadable_docx", "unreadable_epub", "unreadable_odt",
                           "unreadable_warc"})
_MODULES = {"html": "lxml", "pdf": "pypdfium2", "docx": "mammoth", "epub": "lxml",
            "odt": "lxml", "warc": "warcio"}


def doc_type(name: str) -> str | None:
    """The extracted format of a file name (``html``, ``pdf``...), or None."""
    name = name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return SUFFIXES[suffix]
    return None


def missing_extra(kind: str, exc: ImportError, file: str) -> CurateError:
    return CurateError(f"{file}: reading {kind.upper()} files needs the {EXTRA!r} extra "
                       f"({exc.name or _MODULES[kind]} is not installed): pip install "
                       f"'curate[{EXTRA}]'")


def read_documents(path: str | Path, file: str | None = None) -> Iterator[Document]:
    """The documents of one HTML, PDF, DOCX, EPUB, ODT or WARC file (a local path).
    ``file``: the name it is reported under (default: ``path``)."""
    path = Path(path)
    file = file or str(path)
    kind = doc_type(path.name)
    if kind is None:
        raise CurateError(f"{file}: not a document type curate extracts "
                          f"({', '.join(SUFFIXES)})")
    try:
        if kind == "warc":
            yield from _warc(path, file)
            return
        yield _one(kind, path, file)
    except ImportError as exc:
        raise missing_extra(kind, exc, file) from None


def _one(kind: str, path: Path, file: str) -> Document:
    meta = {"doc_type": kind, "path": file}
    try:
        if kind == "pdf":
            from .pdf import read_pdf  # startup

            layout, found = read_pdf(str(path), file)
            return Document(file, layout.text, {**meta, **found}, markdown=True,
                            page_starts=layout.page_starts)
        data = path.read_bytes()
        if kind == "html":
            from .html import read_html  # startup

            text, found = read_html(data, file)
        else:
            from . import office  # startup

            text, found = getattr(office, f"read_{kind}")(data, file)
        return Document(file, text, {**meta, **found}, markdown=True)
    except RowError as err:
        return Document(file, "", meta, markdown=True, error=err)


def _warc(path: Path, file: str) -> Iterator[Document]:
    from .html import read_html  # startup
    from .warc import iter_warc  # startup

    for page in iter_warc(str(path)):
        meta = {"doc_type": "warc", "path": file, "url": page.url}
        if page.date:
            meta["date"] = page.date
        if page.error is not None:
            yield Document(file, "", meta, markdown=True, error=page.error, line=page.record)
            continue
        try:
            text, found = read_html(page.data, file, url=page.url, encoding=page.charset)
        except RowError as err:
            err.message = f"{page.url}: {err.message}"
            yield Document(file, "", meta, markdown=True, error=err, line=page.record)
            continue
        yield Document(file, text, {**meta, **found}, markdown=True, line=page.record)


def pages_of(doc: Document, start: int, end: int) -> list[int] | None:
    """The 1-based pages that ``doc.text[start:end]`` is on (PDFs), else None."""
    if not doc.page_starts:
        return None
    first = max(1, bisect_right(doc.page_starts, start))
    last = max(first, bisect_right(doc.page_starts, max(start, end - 1)))
    return list(range(first, last + 1))
