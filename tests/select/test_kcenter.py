import numpy as np
import pytest

from curate.select.coverage import random_picks
from curate.select.distance import as_unit_rows, min_distances
from curate.select.kcenter import kcenter_greedy

from .conftest import topics


def naive_greedy(X, k, start):
    """The textbook farthest-first traversal from the rows ``start``: one full pass per pick."""
    dist = np.maximum(1 - (X @ X[start].T).max(axis=1), 0)
    dist[start] = -1
    picks = list(start)
    while len(picks) < k:
        j = int(np.argmax(dist))
        picks.append(j)
        dist = np.minimum(dist, np.maximum(1 - X @ X[j], 0))
        dist[j] = -1
    return picks


@pytest.mark.parametrize("candidates", [16, 128, 100_000])
def test_rounds_pick_exactly_what_the_plain_greedy_picks(candidates):
    X, _ = topics((300, 200, 100, 50, 10), dim=24, noise=0.6, seed=4)
    res = kcenter_greedy(X, 120, seed=7, candidates=candidates)
    assert res.picks.tolist() == naive_greedy(X, 120, [int(res.picks[0])])
    assert len(set(res.picks.tolist())) == 120


def test_distances_and_radius_are_those_of_the_picks(planted):
    X, _ = planted
    res = kcenter_greedy(X, 40, seed=0, candidates=64)
    brute = np.maximum(1 - (X @ X[res.picks].T).max(axis=1), 0)
    np.testing.assert_allclose(res.distance, brute, atol=1e-5)
    assert res.distance[res.picks].tolist() == [0.0] * 40
    assert res.covering_radius == pytest.approx(float(brute.max()), abs=1e-5)
    # each pick was the farthest row at its time: the radius never grows
    steps = res.pick_distance[1:]
    assert np.all(np.diff(steps) <= 1e-6)
    assert res.covering_radius <= steps[-1] + 1e-6


def test_covers_every_topic_where_random_misses_small_ones(planted):
    X, topic = planted
    budget = 3 * len(set(topic.tolist()))  # 3 per topic
    res = kcenter_greedy(X, budget, seed=0)
    assert sorted(set(topic[res.picks[:10]].tolist())) == list(range(10))
    for seed in range(5):
        rand = random_picks(len(X), budget, seed=seed)
        assert len(set(topic[rand].tolist())) < 10
        assert res.covering_radius < min_distances(X, X[rand]).max()


def test_same_seed_same_sample_other_seed_other_start(planted):
    X, _ = planted
    a = kcenter_greedy(X, 25, seed=3).picks
    assert a.tolist() == kcenter_greedy(X, 25, seed=3).picks.tolist()
    assert a[0] != kcenter_greedy(X, 25, seed=4).picks[0]


def test_starts_from_the_rows_that_must_be_kept(planted):
    X, _ = planted
    res = kcenter_greedy(X, 12, initial=[5, 2, 5, 9])
    assert res.picks[:3].tolist() == [5, 2, 9]
    assert res.picks.tolist() == naive_greedy(X, 12, [5, 2, 9])
    assert np.isinf(res.pick_distance[:3]).all()


def test_duplicates_and_small_inputs():
    X = as_unit_rows(np.array([[1, 0], [1, 0], [0, 1], [1, 0]], dtype=np.float32))
    res = kcenter_greedy(X, 10, seed=0)
    assert sorted(res.picks.tolist()) == [0, 1, 2, 3]  # budget above the rows: all of them
    assert res.covering_radius == 0.0
    two = kcenter_greedy(X, 2, initial=[0])
    assert two.picks.tolist() == [0, 2]
    assert kcenter_greedy(X[:0], 3).picks.tolist() == []
