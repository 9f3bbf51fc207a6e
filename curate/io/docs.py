"""Raw documents (.txt, .md, .markdown, .rst, .rst.txt) for the ``docs`` converter."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..errors import InputError
from . import Document
from .encoding import UTF8, decode_document
from .remote import local_path

DOC_SUFFIXES = (".txt", ".md", ".markdown", ".rst")


def is_doc_file(path: Path) -> bool:
    return path.name.lower().endswith(DOC_SUFFIXES)


def read_document(path: Path, file: str | None = None, *, encoding: str = UTF8) -> Document:
    """One document; text decoded strictly as UTF-8 (BOM dropped) or as ``encoding``, line
    endings as ``\\n``."""
    file = file or str(path)
    text = decode_document(local_path(path).read_bytes(), file, encoding)
    return Document(file, text.replace("\r\n", "\n").replace("\r", "\n"))


def iter_documents(path: str | Path, *, encoding: str = UTF8) -> Iterator[Document]:
    """The documents of a file or folder (recursing, sorted, hidden files skipped)."""
    from .dispatch import input_files

    files = [f for f in input_files(path) if f.is_file() and is_doc_file(f)]
    if not files:
        raise InputError(f"no document files ({', '.join(DOC_SUFFIXES)}) found", file=str(path))
    for f in files:
        yield read_document(f, str(f), encoding=encoding)
