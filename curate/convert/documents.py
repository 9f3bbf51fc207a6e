"""Documents (text files and extracted HTML, PDF, DOCX, EPUB, ODT, web archive pages) as the
input rows of the ``docs`` and ``passages`` formats, with their provenance in ``meta``, and the
counts the report and the card show (:class:`DocStats`).

Provenance added to each record of an extracted document: ``doc_type``, ``path`` (the file as
given), ``title`` where the document has one, ``url`` and ``date`` (web archive pages, whose
``source`` is the URL), ``record`` (the page's record number in its archive) and ``pages`` (the
1-based PDF pages its text is on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import RowError
from ..io import Document
from ..io.extract import pages_of
from .docs import doc_to_records
from .passages import document_records

_KEEP = ("doc_type", "path", "title", "url", "date")


@dataclass
class DocStats:
    """What the documents of a conversion gave; ``merge`` adds another's (per-worker counts)."""

    documents: int = 0
    pages: int = 0             # PDF pages, plus one per HTML page (file or archive record)
    characters: int = 0        # of the text extracted (or read) from the documents
    by_type: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)   # reason -> files (or records)

    def add(self, doc: Document) -> None:
        if doc.error is not None:
            self.rejected[doc.error.reason] = self.rejected.get(doc.error.reason, 0) + 1
            return
        kind = doc.meta.get("doc_type", "text")
        self.documents += 1
        self.characters += len(doc.text)
        self.by_type[kind] = self.by_type.get(kind, 0) + 1
        self.pages += doc.meta.get("page_count", 1 if kind in ("html", "warc") else 0)

    def merge(self, other: DocStats) -> None:
        self.documents += other.documents
        self.pages += other.pages
        self.characters += other.characters
        for mine, theirs in ((self.by_type, other.by_type), (self.rejected, other.rejected)):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v

    def as_dict(self) -> dict:
        """For the manifest (``stats["documents"]`` of the convert step); {} when no
        document was read."""
        if not self.documents and not self.rejected:
            return {}
        return {"documents": self.documents, "pages": self.pages,
                "characters": self.characters, "by_type": dict(sorted(self.by_type.items())),
                "rejected_files": dict(sorted(self.rejected.items()))}


def document_items(doc: Document, passages: bool) -> list[tuple[int, dict | RowError]]:
    """The ``(line, record or RowError)`` rows of one document: its passages, or its question
    sections (a document without any is one ``no_question`` row)."""
    if doc.error is not None:
        return [(doc.line, doc.error)]
    if passages:
        items = [(doc.text.count("\n", 0, r["meta"]["start"]) + 1, r)
                 for r in document_records(doc)]
        spans = [(r["meta"]["start"], r["meta"]["end"]) for _, r in items]
    else:
        items = doc_to_records(doc)
        if not items:
            return [(1, RowError("no_question", "no question heading or Q:/A: pair in the "
                                 "document"))]
        spans = _section_spans(doc.text, [line for line, _ in items])
    if doc.meta:
        extra = {k: doc.meta[k] for k in _KEEP if doc.meta.get(k) not in (None, "")}
        if doc.line > 1 or doc.meta.get("doc_type") == "warc":
            extra["record"] = doc.line
        for (_, item), (start, end) in zip(items, spans):
            if isinstance(item, RowError):
                continue
            item["meta"].update(extra)
            pages = pages_of(doc, start, end)
            if pages is not None:
                item["meta"]["pages"] = pages
            if doc.meta.get("url"):
                item["source"] = doc.meta["url"]
    return items


def _section_spans(text: str, lines: list[int]) -> list[tuple[int, int]]:
    """Character spans of sections that start at the given 1-based lines and run to the
    next one."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    offset = [starts[min(n - 1, len(starts) - 1)] for n in lines] + [len(text)]
    return list(zip(offset, offset[1:]))
