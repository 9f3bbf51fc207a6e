"""Swap refinement: picks move to nearby rows that serve better, never widening the radius."""

from __future__ import annotations

import numpy as np
import pytest

import curate.select.refine as refine_module
from curate.select.distance import as_unit_rows, min_distances
from curate.select.kcenter import kcenter_greedy
from curate.select.knn import knn_graph
from curate.select.refine import refine, two_nearest

from .conftest import topics


def test_two_nearest_picks_and_their_distances():
    X = as_unit_rows(np.array([[1, 0], [0, 1], [1, 1], [-1, 0.1]], np.float32))
    a, d = two_nearest(X, np.arange(4), X[[0, 1]])
    assert a.tolist() == [[0, 1], [1, 0], [0, 1], [1, 0]]
    np.testing.assert_allclose(d[2], [1 - np.sqrt(0.5)] * 2, atol=1e-6)
    np.testing.assert_allclose(d[0], [0, 1], atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_swaps_lower_the_mean_and_never_the_radius(seed):
    """Farthest-first picks sit on the edges of their topics: the swaps move them inwards."""
    X, _ = topics((300, 150, 80, 9, 5), dim=16, seed=seed)
    start = kcenter_greedy(X, 25, seed=seed).picks
    before = min_distances(X, X[start])
    picks, info = refine(X, start, knn_graph(X, 10).neighbours, fixed=3)
    after = min_distances(X, X[picks])
    assert info["swaps"] > 0 and len(set(picks.tolist())) == 25
    assert after.mean() < 0.97 * before.mean()
    assert after.max() <= before.max() + 1e-6
    assert picks[:3].tolist() == start[:3].tolist()  # the fixed (kept) picks stay
    again, _ = refine(X, start, knn_graph(X, 10).neighbours, fixed=3)
    assert again.tolist() == picks.tolist()


def test_too_large_a_problem_is_left_as_it_is(monkeypatch):
    X, _ = topics((200, 100), dim=8, seed=4)
    start = kcenter_greedy(X, 20, seed=0).picks
    monkeypatch.setattr(refine_module, "REFINE_PAIRS", 300 * 20 - 1)
    picks, info = refine(X, start, knn_graph(X, 8).neighbours)
    assert picks.tolist() == start.tolist() and info == {"swaps": 0}
