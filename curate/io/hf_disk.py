"""Hugging Face datasets saved with ``save_to_disk`` (a Dataset or a DatasetDict).

The arrow shards are read with pyarrow directly (no ``datasets`` import): a Dataset folder holds
``state.json`` listing its shards; a DatasetDict folder holds ``dataset_dict.json`` and one
Dataset folder per split.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from ..errors import InputError
from .types import RawRow

SPLIT_KEY = "__split__"


def is_hf_dataset(path: Path) -> bool:
    """A folder written by ``Dataset.save_to_disk``."""
    return path.is_dir() and (path / "state.json").is_file() and (
        path / "dataset_info.json").is_file()


def is_hf_dataset_dict(path: Path) -> bool:
    """A folder written by ``DatasetDict.save_to_disk``."""
    return path.is_dir() and (path / "dataset_dict.json").is_file()


def splits(path: Path) -> list[Path]:
    """The split folders of a DatasetDict, in the order it lists them."""
    try:
        names = json.loads((path / "dataset_dict.json").read_text("utf-8"))["splits"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"unreadable dataset_dict.json: {exc}", file=str(path)) from None
    return [path / name for name in names]


def _split_name(path: Path) -> str | None:
    parent = path.parent
    if is_hf_dataset_dict(parent):
        if path.name in {p.name for p in splits(parent)}:
            return path.name
    return None


def iter_hf(path: Path, file: str | None = None) -> Iterator[RawRow]:
    """Rows of one saved Dataset folder; a split of a DatasetDict adds ``__split__`` to rows.

    ``line`` is the 1-based row number within the dataset (or split).
    """
    import pyarrow as pa  # startup

    file = file or str(path)
    try:
        state = json.loads((path / "state.json").read_text("utf-8"))
        shards = [path / f["filename"] for f in state["_data_files"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"unreadable state.json of a saved dataset: {exc}", file=file) from None
    split = _split_name(path)
    n = 0
    for shard in shards:
        try:
            reader = pa.ipc.open_stream(pa.memory_map(str(shard)))
        except (OSError, pa.ArrowInvalid) as exc:
            raise InputError(f"unreadable arrow shard {shard.name}: {exc}", file=file) from None
        for batch in reader:
            for row in batch.to_pylist():
                n += 1
                if split is not None:
                    row[SPLIT_KEY] = split
                yield RawRow(file, n, data=row)
