"""Facility location on the neighbour graph, then k-center for the outliers."""

from __future__ import annotations

import numpy as np
import pytest

from curate.select import select_rows
from curate.select.distance import min_distances
from curate.select.facility import (_edges, facility_kcenter, facility_location,
                                    quality_weights)
from curate.select.kcenter import kcenter_greedy
from curate.select.knn import knn_graph

from .conftest import topics


def plain_greedy(graph, budget, weights=None):
    """Facility location without laziness: every gain recomputed every step."""
    n = graph.neighbours.shape[0]
    indptr, src, val = _edges(graph, weights)
    cur, picks = np.zeros(n), []
    for _ in range(budget):
        gains = np.array([np.maximum(val[indptr[j]:indptr[j + 1]]
                                     - cur[src[indptr[j]:indptr[j + 1]]], 0).sum()
                          if j not in picks else -1 for j in range(n)])
        j = int(np.argmax(gains))  # ties to the lower row
        picks.append(j)
        cur[src[indptr[j]:indptr[j + 1]]] = np.maximum(cur[src[indptr[j]:indptr[j + 1]]],
                                                       val[indptr[j]:indptr[j + 1]])
    return picks


def test_the_lazy_greedy_picks_what_the_plain_greedy_picks():
    X, _ = topics((120, 60, 30, 5, 2), dim=10, seed=7)
    graph = knn_graph(X, 6)
    assert facility_location(graph, 15).tolist() == plain_greedy(graph, 15)
    w = quality_weights(np.random.default_rng(0).random(len(X)))
    assert facility_location(graph, 15, weights=w).tolist() == plain_greedy(graph, 15, w)


def test_facility_location_is_representative_and_the_outlier_picks_cover():
    X, topic = topics()
    k = 40
    fl = facility_location(knn_graph(X, 16), k)
    both, info = facility_kcenter(X, k)
    kc = kcenter_greedy(X, k, seed=0)
    mean = {name: float(min_distances(X, X[p]).mean())
            for name, p in [("fl", fl), ("both", both.picks), ("kc", kc.picks)]}
    radius = {name: float(min_distances(X, X[p]).max())
              for name, p in [("fl", fl), ("both", both.picks), ("kc", kc.picks)]}
    assert (info["facility_picks"], info["outlier_picks"]) == (26, 14) and info["swaps"] > 0
    # facility location serves the typical row, k-center the worst-served one; with the set
    # cover and the swaps, better than k-center on both here and than facility location on
    # the radius
    assert mean["both"] < mean["kc"] and mean["fl"] < mean["kc"]
    assert radius["both"] <= radius["kc"] and radius["both"] < radius["fl"]
    assert radius["both"] <= info["cover_radius"] + 1e-6
    # the big topics get most facility picks, every small topic a pick after the outliers'
    assert np.bincount(topic[fl[:26]], minlength=10)[0] >= 8
    assert set(topic[both.picks].tolist()) == set(range(10))
    assert len(set(both.picks.tolist())) == k
    assert np.allclose(both.distance, min_distances(X, X[both.picks]), atol=1e-6)


def test_share_one_is_the_cover_from_a_seeded_row_and_zero_facility_location():
    X, _ = topics((300, 100, 4), dim=12, seed=2)
    only_cover, info = facility_kcenter(X, 20, seed=5, outlier_share=1.0)
    assert info["facility_picks"] == 0 and info["outlier_picks"] == 20
    assert float(only_cover.distance.max()) <= kcenter_greedy(X, 20, seed=5).covering_radius
    only_fl, info = facility_kcenter(X, 20, outlier_share=0.0, neighbours=8)
    assert "cover_radius" not in info and info["facility_picks"] == 20
    greedy = facility_location(knn_graph(X, 8), 20)
    assert float(only_fl.distance.mean()) <= float(min_distances(X, X[greedy]).mean())


def test_kept_rows_come_first_and_count():
    X, _ = topics((300, 100, 4), dim=12, seed=2)
    keep = np.zeros(len(X), bool)
    keep[[250, 7]] = True
    sel = select_rows(X, 12, keep=keep)
    assert sel.picks[:2].tolist() == [7, 250] and len(set(sel.picks.tolist())) == 12
    assert (sel.info["facility_picks"], sel.info["outlier_picks"]) == (6, 4)


def test_quality_weights_rank_scores_and_pull_the_picks_to_better_rows():
    assert quality_weights(np.array([5.0, np.nan, 1.0, 5.0])).tolist() == [1.0, 1 / 3, 2 / 3,
                                                                          1.0]
    X, _ = topics((600, 300), dim=12, noise=0.6, seed=9)
    scores = np.random.default_rng(3).random(len(X))
    plain = select_rows(X, 30, method="facility", outlier_share=0.0)
    weighted = select_rows(X, 30, method="facility", outlier_share=0.0, scores=scores)
    assert scores[weighted.picks].mean() > scores[plain.picks].mean() + 0.1
    assert "swaps" not in weighted.info and "swaps" in plain.info  # no swaps by distance


def test_the_same_picks_for_the_same_seed_above_the_exact_size(monkeypatch):
    import curate.select.knn as knn

    monkeypatch.setattr(knn, "EXACT_ROWS", 500)
    monkeypatch.setattr(knn, "ROWS_PER_CLUSTER", 100)
    X, _ = topics((900, 400, 100, 6), dim=16, seed=1)
    a = select_rows(X, 30, seed=4).picks.tolist()
    assert a == select_rows(X, 30, seed=4).picks.tolist()
    assert a != select_rows(X, 30, seed=5).picks.tolist()  # other blocks, other graph


@pytest.mark.parametrize("budget", [0, 1, 3])
def test_tiny_budgets_and_inputs(budget):
    X, _ = topics((2, 1), dim=4, seed=0)
    sel = select_rows(X, budget)
    assert len(sel.picks) == min(budget, 3) == len(set(sel.picks.tolist()))
