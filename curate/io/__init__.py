"""Readers and writers, one module per format.

Readers of row formats yield :class:`RawRow` (a parsed object, or the error that kept a line from
being one) so that the converter can either stop with the file and line or keep the bad line as a
rejected row. Document folders yield :class:`Document`. Curate's own record files (a run folder,
or parquet with the record columns) are read straight into a frame.

Contract for this package (implemented by its modules):

    iter_rows(path, *, skip_docs=True) -> Iterator[RawRow]      file or folder, files in sorted order
    iter_documents(path) -> Iterator[Document]                   .txt/.md/.rst/.markdown files,
                                                                 HTML, PDF, DOCX, EPUB, WARC
    input_files(path) -> list[Path | RemoteFile]                 the files a dataset argument covers
    is_record_input(path) -> bool                                a run folder or a records parquet
    read_records(path) -> pl.DataFrame                           such an input, in RECORD_SCHEMA
    write_jsonl(rows: Iterable[dict], path)                      streamed, UTF-8, one object a line

Every reader also takes an fsspec URL (``s3://``, ``gs://``, ``memory://``, ``file://``, a
``zip::`` chain; a file, a folder or a glob): see :mod:`curate.io.remote`. A run folder at a
URL is staged locally and mirrored by :mod:`curate.io.mirror`. Outputs are checked before any
work by :mod:`curate.io.output` (overlap with the input) and :mod:`curate.io.owned` (curate
replaces or removes only files it wrote); :mod:`curate.io.stale` clears an old run's files.
"""

from __future__ import annotations

from .dispatch import (input_files, is_record_input, iter_documents, iter_file, iter_rows,
                       read_records)
from .docs import read_document
from .jsonl import write_jsonl
from .types import Document, RawRow

__all__ = ["RawRow", "Document", "iter_rows", "iter_file", "iter_documents", "read_document",
           "input_files", "is_record_input", "read_records", "write_jsonl"]
