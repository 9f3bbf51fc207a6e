"""A new run into an old run folder removes the old run's files, and only curate's."""

from __future__ import annotations

import polars as pl

from curate.io.owned import mark_run
from curate.io.stale import clear_stale


def test_clear_stale_removes_only_curates_files(tmp_path):
    run = tmp_path
    mark_run(run)
    files = ["data.parquet", "report.html", "bias.json", "stages/00_convert.parquet",
             "stages/01_dedup.exact.parquet", "stages/02_old.parquet", "stages/mine.parquet",
             "rejected/00_convert.parquet", "rejected/02_old.parquet",
             "rejected/export_trl-sft.parquet", "rejected/notes.txt", "select/02_old.parquet",
             "cache/scores/x.parquet", "export/theirs/train.jsonl"]
    for rel in files:
        (run / rel).parent.mkdir(parents=True, exist_ok=True)
        (run / rel).write_bytes(b"x")
    (run / "stages" / "03_parts.parquet").mkdir()  # a checkpoint as a folder of parts
    (run / "stages" / "03_parts.parquet" / "part-0.parquet").write_bytes(b"x")
    pl.DataFrame({"a": [1]}).write_parquet(run / "x.parquet")
    removed = clear_stale(run, keep=["00_convert"], previous={"exports": []})
    assert removed == ["stages/01_dedup.exact.parquet", "stages/02_old.parquet",
                       "stages/03_parts.parquet", "select/02_old.parquet",
                       "rejected/02_old.parquet", "rejected/export_trl-sft.parquet",
                       "data.parquet", "report.html"]
    left = sorted(p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file())
    assert left == [".curate.json", "bias.json", "cache/scores/x.parquet",
                    "export/theirs/train.jsonl", "rejected/00_convert.parquet",
                    "rejected/notes.txt", "stages/00_convert.parquet", "stages/mine.parquet",
                    "x.parquet"]
