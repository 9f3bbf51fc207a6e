"""select.diverse on Ray: the k-center on actor shards picks exactly what the local one picks,
and the neighbour graph of facility location, built by Ray tasks, is the local one."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from curate.embed import precision
from curate.engines import get_engine
from curate.engines.ray_kcenter import KCenterPool, ShardedRows
from curate.records import records_to_frame
from curate.select.distance import as_unit_rows
from curate.select.kcenter import kcenter_greedy
from curate.select.knn import knn_graph
from curate.stages.base import StageContext
from curate.stages.select_diverse import SelectDiverse
from curate.vectors import Vectors, view


def random_rows(n: int = 3000, dim: int = 32, seed: int = 1) -> np.ndarray:
    """Random unit rows; the last n/30 are exact copies of rows in the first shard, and a
    tenth from n/3 on lie on few directions (many equal distances)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dim)).astype(np.float32)
    d, t = n // 30, n // 10
    X[n - d:] = X[d:2 * d]
    X[n // 3:n // 3 + t] = rng.integers(-1, 2, (t, dim)).astype(np.float32)
    X[n // 3:n // 3 + t, 0] = 1
    return as_unit_rows(X)


@pytest.fixture
def pool(ray_local, request):
    """A k-center pool of ``request.param`` shards (default 2), stopped after the test: its
    actors take both CPUs."""
    pool = KCenterPool(get_engine("ray"), shards=getattr(request, "param", 2))
    yield pool
    pool.close()


@pytest.mark.parametrize("pool", [2, 3], indirect=True)
def test_shards_pick_exactly_the_local_picks(pool):
    X = random_rows()
    for options in [{"seed": 3, "candidates": 8}, {"seed": 0, "candidates": 2048},
                    {"initial": [2550, 7, 150, 1100, 2999], "candidates": 5}]:
        local = kcenter_greedy(X, 200, **options)
        ray = pool.kcenter(X, 200, **options)
        assert ray.picks.tolist() == local.picks.tolist(), options
        assert len(set(ray.picks.tolist())) == 200
        assert np.array_equal(ray.distance, local.distance)
        assert np.array_equal(ray.pick_distance, local.pick_distance)
    assert ray.picks[:5].tolist() == [2550, 7, 150, 1100, 2999]
    # every actor held a shard (with 5 candidates a round picks at most 5 rows, so the
    # shards' tops were merged at least 39 times)
    assert len(pool.actors) == len(ShardedRows(pool.actors, X).bounds) == pool.shards


def test_budget_of_every_row_and_one_shard_of_few_rows(pool):
    X = random_rows(40, 4)
    assert sorted(pool.kcenter(X, 100, seed=1).picks.tolist()) == list(range(40))
    assert ShardedRows(pool.actors, X).bounds == [(0, 40)]  # fewer rows than a block
    assert pool.kcenter(X, 7, seed=1).picks.tolist() == kcenter_greedy(
        X, 7, seed=1).picks.tolist()


def test_shards_read_the_vector_file_and_a_strata_view(pool, tmp_path):
    """The actors read their rows from the run's vector file (all rows, or the rows of one
    stratum): the local picks, the same distances."""
    X = random_rows()
    vectors = Vectors.from_array(tmp_path / "x.npy", X)
    stratum = np.flatnonzero(np.arange(len(X)) % 3 != 1)
    for rows, options in [(None, {"seed": 3, "candidates": 8}),
                          (stratum, {"initial": [5, 700], "candidates": 16})]:
        local = kcenter_greedy(X if rows is None else X[rows], 150, **options)
        ray = pool.kcenter(view(vectors, rows), 150, **options)
        assert ray.picks.tolist() == local.picks.tolist()
        assert np.array_equal(ray.distance, local.distance)
        assert np.array_equal(ray.pick_distance, local.pick_distance)
        on_file = get_engine("local").kcenter(view(vectors, rows), 150, **options)
        assert on_file.picks.tolist() == local.picks.tolist()


def frame(n: int, *, seed: int = 0, embedding: bool = True) -> pl.DataFrame:
    topics = ["cooking", "rust", "chess", "gardening", "taxes", "jazz", "knots", "tides"]
    df = records_to_frame([
        {"id": f"r{i}", "kind": "sft", "source": f"s{i % 3}",
         "messages": [{"role": "user", "content": f"Question {i} about {topics[i % 8]}?"},
                      {"role": "assistant", "content": f"Answer {i}: {topics[(i * 5) % 8]} "
                                                       f"and {topics[(i * 3) % 7]}."}]}
        for i in range(n)])
    df = df.with_columns(pl.Series("must", [i in (3, 77) for i in range(n)]))
    if embedding:
        X = random_rows(n, 16, seed)
        df = df.with_columns(pl.Series("embedding", X.tolist(), dtype=pl.List(pl.Float32)))
    return df


def same_result(a, b) -> None:
    for part in ("kept", "rejected"):
        assert getattr(b, part).equals(getattr(a, part)), part
    assert {k: v for k, v in b.stats.items() if k != "engine"} == a.stats


def test_the_neighbour_graph_from_ray_tasks_is_the_local_one(ray_local, tmp_path):
    X = random_rows(3000, 16)
    vectors = Vectors.from_array(tmp_path / "x.npy", X)
    engine = get_engine("ray")
    for rows, clusters in [(None, None), (None, 12), (np.arange(0, 3000, 2), 7)]:
        local = knn_graph(view(vectors, rows), 8, clusters=clusters, seed=2)
        ray = knn_graph(view(vectors, rows), 8, clusters=clusters, seed=2, map=engine.map)
        assert np.array_equal(ray.neighbours, local.neighbours), clusters
        assert np.array_equal(ray.similarity, local.similarity)


@pytest.mark.parametrize("options,shards", [
    ({"n": 150, "keep_column": "must"}, True),
    ({"n": 80, "method": "facility", "outlier_share": 0.5, "neighbours": 4}, True),
    ({"n": 0.05, "stratify_column": "source"}, True),
    ({"n": 60, "method": "clusters"}, False)])
def test_stage_on_ray_equals_local(ray_local, tmp_path, options, shards):
    df = frame(2500)
    ctx = StageContext(name="select.diverse", index=1, seed=4)
    local = get_engine("local").apply(SelectDiverse(options), df, ctx)
    ray = get_engine("ray").apply(SelectDiverse(options), df, ctx)
    same_result(local, ray)
    assert ("k-center shards on actors" in ray.stats["engine"]) == shards
    assert ray.kept.height == local.stats["budget"] and ray.kept["select_rank"].null_count() == 0
    if "keep_column" in options:
        assert ray.kept.sort("select_rank")["id"].head(2).to_list() == ["r3", "r77"]


def test_facility_on_ray_equals_local_when_the_cover_meets_its_floor(ray_local, monkeypatch):
    """Few candidate distances allowed: the cover serves the farthest rows it may consider
    and the rest are picked farthest-first, in the driver on both engines."""
    import curate.select.cover as cover

    monkeypatch.setattr(cover, "PAIRS", 3000)
    df = frame(2500)
    ctx = StageContext(name="select.diverse", index=1, seed=2)
    stage = {"n": 90, "outlier_share": 0.5, "neighbours": 4}
    local = get_engine("local").apply(SelectDiverse(stage), df, ctx)
    ray = get_engine("ray").apply(SelectDiverse(stage), df, ctx)
    same_result(local, ray)
    stats = ray.stats
    assert stats["facility_picks"] == 45 and stats["outlier_picks"] == 45
    assert stats["cover_radius"] >= stats["coverage"]["sample"]["covering_radius"]


def test_stage_on_ray_with_the_real_model(ray_local, tmp_path):
    """all-MiniLM-L6-v2 on the embedding actor pool, k-center on shards: the local sample."""
    df = frame(48, embedding=False)
    stage = {"n": 12, "on": "pair", "store_embedding": True}
    ctx = StageContext(name="select.diverse", index=2, out_dir=tmp_path, seed=1)
    local = get_engine("local").apply(SelectDiverse(stage), df, ctx)
    ray = get_engine("ray").apply(SelectDiverse(stage), df, ctx)
    same_result(local, ray)
    assert "embedding actor pool" in ray.stats["engine"]
    assert "k-center shards on actors" in ray.stats["engine"]
    assert ray.stats["embedding"] == {"model": "all-MiniLM-L6-v2", "on": "pair", "dim": 384,
                                      "from": "model", "precision": precision()}
    assert sorted(ray.kept["select_rank"].to_list()) == list(range(12))
    assert len(set(ray.kept.sort("select_rank")["id"].head(8).to_list())) == 8
