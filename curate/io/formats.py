"""Which files are read as data, by their names: row files by suffix, and documents."""

from __future__ import annotations

from .docs import DOC_SUFFIXES

# the suffixes of the row formats, each read by the reader of its format (curate.io.dispatch)
ROW_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz",
                ".parquet", ".csv", ".csv.gz")


def row_suffix(name: str) -> str | None:
    """The row format suffix a file name ends with (the longest), or None."""
    name = name.lower()
    return next((s for s in sorted(ROW_SUFFIXES, key=len, reverse=True) if name.endswith(s)),
                None)


def is_readable_name(name: str) -> bool:
    """Whether a file of this name is read as data (a row file or a document)."""
    return row_suffix(name) is not None or name.lower().endswith(DOC_SUFFIXES)
