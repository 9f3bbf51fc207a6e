"""Load an export the ways a user would: each data format with `datasets`, and the folder."""

from __future__ import annotations

import datasets


def load_all(out_dir, splits, cache, formats=("parquet", "jsonl")) -> dict:
    out = {}
    for ext in formats:
        builder = "json" if ext == "jsonl" else ext
        files = {s: str(out_dir / f"{s}.{ext}") for s in splits}
        out[ext] = datasets.load_dataset(builder, data_files=files, cache_dir=str(cache / ext))
    out["dir"] = datasets.load_dataset(str(out_dir), cache_dir=str(cache / "dir"))
    return out


def rows(ds) -> list[dict]:
    return [row for split in ds for row in ds[split]]
