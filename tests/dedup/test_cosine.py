from __future__ import annotations

import numpy as np

from curate.dedup.cosine import (BLOCK, cluster_pairs, clustered_cosine_pairs, cosine_pairs,
                                 nearest_two, query_blocks, query_pairs, unique_pairs,
                                 use_exact)


def unit(*degrees: float) -> np.ndarray:
    rad = np.radians(degrees)
    return np.stack([np.cos(rad), np.sin(rad)], axis=1).astype(np.float32)


def test_query_pairs_of_a_block():
    emb = unit(0, 10, 90, 180, 5)  # cos 10 deg = 0.985, cos 5 deg = 0.996
    assert query_pairs(emb, np.array([0, 1]), 0.98).tolist() == [[0, 1], [0, 4], [1, 0],
                                                                 [1, 4]]
    rows = np.array([10, 11, 12, 13, 14])
    assert query_pairs(emb, np.array([2]), 0.98, rows).tolist() == []
    assert query_pairs(emb, np.array([4]), 0.99, rows).tolist() == [[14, 10], [14, 11]]


def test_unique_pairs_and_blocks():
    assert unique_pairs([np.array([[3, 1], [1, 3]]), np.array([[2, 0]])]).tolist() == [
        [0, 2], [1, 3]]
    assert unique_pairs([]).shape == (0, 2)
    assert [b.shape[0] for b in query_blocks(np.arange(5000))] == [BLOCK, BLOCK, 904]
    assert cosine_pairs(unit(0, 10, 90, 180, 5), 0.98).tolist() == [[0, 1], [0, 4], [1, 4]]


def test_nearest_two_centroids():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(3000, 8)).astype(np.float32)
    centers = rng.normal(size=(6, 8))
    brute = np.argsort(((emb[:, None, :] - centers[None]) ** 2).sum(axis=2), axis=1)[:, :2]
    near = nearest_two(emb, centers)
    assert np.array_equal(near, brute)
    assert np.array_equal(nearest_two(emb[BLOCK:], centers), near[BLOCK:])  # block-aligned


def test_cluster_pairs_only_from_queries():
    emb = unit(0, 5, 3)
    rows = np.array([7, 8, 9])
    both = cluster_pairs(emb, rows, np.array([True, False, False]), 0.99)
    assert both.tolist() == [[7, 8], [7, 9]]  # 8 and 9 are members only: not compared
    assert cluster_pairs(emb, rows, np.zeros(3, bool), 0.99).shape == (0, 2)


def test_clustered_search_finds_copies_of_separate_groups():
    rng = np.random.default_rng(1)
    centres = np.eye(16, dtype=np.float32)[:4] * 4
    emb = np.concatenate([c + rng.normal(size=(50, 16)).astype(np.float32) for c in centres])
    emb = np.concatenate([emb, emb[:20] + 0.05 * rng.normal(size=(20, 16)).astype(np.float32)])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    planted = [[i, 200 + i] for i in range(20)]
    assert cosine_pairs(emb, 0.99).tolist() == planted
    assert clustered_cosine_pairs(emb, 0.99, 4, seed=0).tolist() == planted
    assert use_exact(220, 1) and use_exact(3, 4) and not use_exact(220, 4)
    assert clustered_cosine_pairs(emb, 0.99, 1).tolist() == planted
