"""Dedup against a reference on Ray keeps and rejects exactly what the local engine does (a
local Ray with 2 CPUs): the reference's index built by Ray tasks, the new records' keys
joined with it partition by partition."""

from __future__ import annotations

import polars as pl
import pytest

from curate.dedup import reference
from curate.engines import get_engine
from curate.stages.base import StageContext
from curate.stages.registry import stage_class

from .test_ray import generated


def test_against_same_rows(ray_local, tmp_path, monkeypatch):
    monkeypatch.setattr(reference, "PIECE_ROWS", 150)
    monkeypatch.setattr(reference, "PARTITION_ROWS", 2000)
    ref = generated(600, seed=1)
    ref_path = tmp_path / "v1.parquet"
    ref.write_parquet(ref_path)
    new = pl.concat([generated(400, seed=2),
                     ref.slice(100, 30).with_columns(pl.format("copy-{}", "id").alias("id"))])
    local, ray_engine = get_engine("local"), get_engine("ray")
    ctx = StageContext(seed=0)
    for use, options in [("dedup.exact", {}), ("dedup.near", {"threshold": 0.8})]:
        options = {**options, "against": {"v1": str(ref_path)}}
        monkeypatch.setenv("CURATE_HOME", str(tmp_path / f"local-{use}"))
        a = local.apply(stage_class(use)(options), new, ctx)
        monkeypatch.setenv("CURATE_HOME", str(tmp_path / f"ray-{use}"))  # Ray builds its own
        stage = stage_class(use)(options)
        stage.sign_batch_size = 100
        b = ray_engine.apply(stage, new, ctx)
        assert b.stats["against"]["v1"]["built"] is True
        assert b.kept.equals(a.kept), use
        assert b.rejected.equals(a.rejected), use
        ours = b.rejected.filter(pl.col("drop_reason") == "duplicate_of_reference")
        assert ours.height >= 30 and set(ours["id"]) >= {f"copy-g{i}" for i in range(100, 130)}
        index = tmp_path / f"ray-{use}"
        assert index.exists()


@pytest.mark.usefixtures("fp32_embeddings")
def test_semantic_against_same_rows(ray_local, tmp_path, monkeypatch):
    """Semantic dedup against a reference, in both searches of the reference (exact, and
    k-means above ``exact_max``): Ray's records are the local engine's."""
    monkeypatch.setattr(reference, "PIECE_ROWS", 100)
    ref = generated(240, seed=3)
    ref_path = tmp_path / "v1.parquet"
    ref.write_parquet(ref_path)
    new = pl.concat([generated(120, seed=4),
                     ref.slice(40, 12).with_columns(pl.format("copy-{}", "id").alias("id"))])
    local, ray_engine = get_engine("local"), get_engine("ray")
    ctx = StageContext(seed=0)
    for search in ({}, {"exact_max": 10, "clusters": 4}):
        options = {"threshold": 0.95, "against": {"v1": str(ref_path)}, **search}
        monkeypatch.setenv("CURATE_HOME", str(tmp_path / f"local-{len(search)}"))
        a = local.apply(stage_class("dedup.semantic")(options), new, ctx)
        monkeypatch.setenv("CURATE_HOME", str(tmp_path / f"ray-{len(search)}"))
        stage = stage_class("dedup.semantic")(options)
        stage.piece_rows = 50
        b = ray_engine.apply(stage, new, ctx)
        assert b.kept.equals(a.kept) and b.rejected.equals(a.rejected), search
        ours = set(b.rejected.filter(pl.col("drop_reason") == "duplicate_of_reference")["id"])
        assert ours >= {f"copy-g{i}" for i in range(40, 52)}, search
