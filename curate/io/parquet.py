"""Parquet files written with polars, the OS error of a failed write kept."""

from __future__ import annotations

from pathlib import Path


def write_parquet(df, path: str | Path, **options) -> None:
    """``df.write_parquet(path, **options)``. When the write fails while polars writes the
    footer, it reports ``Invalid thrift: transport error`` without the OS error (the whole file
    was still in its buffer: small files with many nested columns); a plain write to the same
    file then says what it was (a full disk: OSError ENOSPC)."""
    try:
        df.write_parquet(path, **options)
    except Exception as exc:  # polars.exceptions.ComputeError
        if "transport error" not in str(exc):
            raise
        try:
            with open(path, "ab") as probe:
                probe.write(bytes(1 << 16))
        except OSError as io_error:
            raise io_error from None
        raise
