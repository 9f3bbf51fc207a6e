"""Raw documents for the ``docs`` converter: text (.txt, .md, .markdown, .rst, .rst.txt) read
here, and HTML, PDF, DOCX, EPUB, ODT and web archives extracted by :mod:`curate.io.extract`."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from .types import Document
from .encoding import UTF8, decode_document
from .extract import SUFFIXES, doc_type, read_documents
from .remote import local_path

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".rst")
DOC_SUFFIXES = TEXT_SUFFIXES + tuple(SUFFIXES)


def is_doc_file(path: Path) -> bool:
    return path.name.lower().endswith(DOC_SUFFIXES)


def read_file_documents(path, file: str | None = None, *,
                        encoding: str = UTF8) -> Iterator[Document]:
    """The documents of one document file (an entry of :func:`~curate.io.input_files`): a text
    file is one document; an HTML, PDF, DOCX, EPUB or ODT file one (or one with ``error``
    set: see :mod:`curate.io.extract`), a web archive one per HTML page. A plain function of
    one file: the streaming converter calls it per file, on any worker."""
    file = file or str(path)
    if doc_type(path.name) is None:
        yield read_document(path, file, encoding=encoding)
    else:
        yield from read_documents(local_path(path), file)


def read_document(path: Path, file: str | None = None, *, encoding: str = UTF8) -> Document:
    """One document; text decoded strictly as UTF-8 (BOM dropped) or as ``encoding``, line
    endings as ``\\n``."""
    file = file or str(path)
    text = decode_document(local_path(path).read_bytes(), file, encoding)
    return Document(file, text.replace("\r\n", "\n").replace("\r", "\n"))
