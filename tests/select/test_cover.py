"""The outlier picks of facility: a greedy set cover of the far rows, radius by bisection."""

from __future__ import annotations

import numpy as np

import curate.select.cover as cover
from curate.select.cover import candidates_for, cover_tail, far_rows, greedy_cover
from curate.select.distance import as_unit_rows, min_distances
from curate.select.kcenter import kcenter_greedy
from curate.select.knn import knn_graph

from .conftest import topics


def test_greedy_cover_takes_the_candidate_that_serves_most_then_the_lower():
    # candidates (rows) serve elements (columns)
    D = np.array([[1, 1, 0, 0, 0],
                  [0, 1, 1, 1, 0],
                  [0, 0, 0, 1, 1],
                  [1, 0, 0, 0, 1]], dtype=bool)
    everyone = np.ones(5, bool)
    assert greedy_cover(D, everyone, 3) == [1, 3]
    assert greedy_cover(D, everyone, 1) is None  # needs two
    only = np.array([0, 0, 0, 1, 1], bool)
    assert greedy_cover(D, only, 5) == [2]  # ties: 1 and 2 serve element 3, 2 serves 4 too
    assert greedy_cover(D, np.zeros(5, bool), 0) == []


def test_far_rows_are_the_farthest_ties_to_the_lower_row():
    dist = np.array([0.5, 0.9, 0.5, 0.0, 0.9, 0.7], np.float32)
    assert far_rows(dist, 3).tolist() == [1, 4, 5]
    assert far_rows(dist, 4).tolist() == [0, 1, 4, 5]


def test_the_cover_reaches_a_radius_farthest_first_does_not():
    """Two pairs of outliers, each pair around a middle row, and a dense blob: two picks in
    the middles serve all four outliers; farthest-first takes two outliers and leaves the
    other two far away."""
    blob = np.tile([1.0, 0, 0], (30, 1)) + 0.01 * np.random.default_rng(0).standard_normal(
        (30, 3))
    a, b = np.deg2rad(70), np.deg2rad(30)
    pairs = [[np.cos(a), np.sin(a) * np.cos(t), np.sin(a) * np.sin(t)]
             for t in (np.pi / 2 - b, np.pi / 2, np.pi / 2 + b,
                       -np.pi / 2 - b, -np.pi / 2, -np.pi / 2 + b)]
    X = as_unit_rows(np.vstack([blob, pairs]).astype(np.float32))
    dist = min_distances(X, X[:1])
    dist[0] = 0
    picks, radius, limited = cover_tail(X, dist, 2)
    assert sorted(picks.tolist()) == [31, 34] and not limited
    got = float(min_distances(X, X[np.r_[0, picks]]).max())
    assert got <= radius + 1e-6
    kc = kcenter_greedy(X, 3, initial=[0])
    assert got < kc.covering_radius - 0.1


def test_on_topics_the_cover_is_no_wider_than_farthest_first_from_the_same_picks():
    X, _ = topics()
    for start_size, k in [(30, 40), (60, 70), (10, 30)]:
        start = kcenter_greedy(X, start_size, seed=1).picks
        dist = min_distances(X, X[start])
        dist[start] = 0
        picks, radius, _ = cover_tail(X, dist, k - start_size, knn_graph(X, 8).neighbours)
        assert len(picks) <= k - start_size and not set(picks.tolist()) & set(start.tolist())
        mine = float(min_distances(X, X[np.r_[start, picks]]).max())
        kc = kcenter_greedy(X, k, initial=start).covering_radius
        assert mine <= radius + 1e-6 and mine <= kc + 1e-6


def test_a_small_pair_budget_takes_the_farthest_rows_and_graph_candidates(monkeypatch):
    X, _ = topics((400, 200, 5, 4), dim=12, seed=3)
    graph = knn_graph(X, 6)
    start = kcenter_greedy(X, 5, seed=0).picks
    dist = min_distances(X, X[start])
    dist[start] = 0
    elements, cands = candidates_for(len(X), dist, graph.neighbours, pairs=2000)
    assert len(cands) * len(elements) <= 2000 < len(X) * len(elements)
    assert elements.tolist() == far_rows(dist, len(elements)).tolist()
    assert set(elements.tolist()) <= set(cands.tolist())
    assert set(cands.tolist()) <= set(elements.tolist()) | set(graph.neighbours[elements].ravel())
    # enough picks for every considered far row: the radius stops at the rows left out,
    # and says so (the caller then picks farthest-first)
    picks, radius, limited = cover_tail(X, dist, 200, graph.neighbours, pairs=2000)
    left = np.setdiff1d(np.arange(len(X)), np.r_[elements, start])
    assert limited and radius == float(dist[left].max())
    # facility with such a budget still gives every pick and the exact distances
    from curate.select.facility import facility_kcenter

    monkeypatch.setattr(cover, "PAIRS", 2000)
    res, info = facility_kcenter(X, 60, neighbours=6)
    assert len(set(res.picks.tolist())) == 60 and info["outlier_picks"] == 60 - \
        info["facility_picks"]
    assert np.allclose(res.distance, min_distances(X, X[res.picks]), atol=1e-6)
