"""The split's groups from compact keys: connected components over prompt, dup_cluster and
label_group, the same whatever the chunk sizes the arrays are worked in."""

import numpy as np
import polars as pl
import pytest

import curate.export.split as split
from curate.export.split_groups import components


def _keys(seed: int, n: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    prompts = rng.integers(0, max(1, n // 2), n).astype(np.uint64)
    ko = (prompts * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(seed)  # spread over the buckets
    dc = rng.integers(1, max(2, n // 6), n).astype(np.uint64)
    lg = rng.integers(1, max(2, n // 4), n).astype(np.uint64)
    st = rng.integers(1, 4, n).astype(np.uint64)
    return pl.DataFrame({
        "ko": pl.Series(ko, dtype=pl.UInt64), "pk": rng.random(n) < 0.85,
        "dc": pl.Series(np.where(rng.random(n) < 0.2, dc, 0), dtype=pl.UInt64),
        "lg": pl.Series(np.where(rng.random(n) < 0.1, lg, 0), dtype=pl.UInt64),
        "st": pl.Series(st, dtype=pl.UInt64),
    }).with_columns(pl.when(pl.col(c) == 0).then(None).otherwise(pl.col(c)).alias(c)
                    for c in ("dc", "lg"))


def _union_find(keys: pl.DataFrame) -> list[int]:
    """Each row's smallest row position among the rows it is linked to, one link at a time."""
    parent = list(range(keys.height))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    first: dict = {}
    for i, (ko, pk, dc, lg) in enumerate(keys.select("ko", "pk", "dc", "lg").iter_rows()):
        for key in (("p", ko) if pk else None, ("d", dc) if dc is not None else None,
                    ("l", lg) if lg is not None else None):
            if key is None:
                continue
            if key in first:
                a, b = root(first[key]), root(i)
                parent[max(a, b)] = min(a, b)
            else:
                first[key] = i
    return [root(i) for i in range(keys.height)]


@pytest.mark.parametrize("seed", range(6))
def test_components_are_those_of_a_union_find(seed):
    keys = _keys(seed, [7, 40, 300, 2000, 1, 120][seed])
    assert components(keys).tolist() == _union_find(keys)


@pytest.mark.parametrize("seed", range(4))
def test_the_split_does_not_depend_on_the_chunk_sizes(seed, monkeypatch):
    keys = _keys(seed, 500)
    strata = {h: f"s{h}" for h in range(1, 4)}
    key_text = lambda rows: [f"key {r * 7919 % 1009}" for r in rows.tolist()]  # noqa: E731
    options = dict(test_size=[0.1, 7, 0.3, 0.02][seed], validation_size=[None, 0.1][seed % 2],
                   key_text=key_text)
    whole = split.split_labels(keys, strata, **options)
    monkeypatch.setattr(split, "FILL_CHUNK", 3)
    assert split.split_labels(keys, strata, **options).tolist() == whole.tolist()
    counts = dict(zip(*np.unique(whole, return_counts=True)))
    assert counts["train"] > counts["test"] > 0
