import numpy as np
import pytest

from curate.select.deita import deita_select, score_order
from curate.select.distance import as_unit_rows

from .conftest import topics


def naive_deita(X, scores, k, min_distance):
    picks = []
    for i in score_order(scores):
        if all(1 - float(X[i] @ X[j]) > min_distance for j in picks):
            picks.append(int(i))
        if len(picks) == k:
            break
    return picks


@pytest.mark.parametrize("min_distance", [0.02, 0.1, 0.3])
def test_never_picks_two_rows_closer_than_min_distance(min_distance):
    X, _ = topics((400, 300, 200, 100), dim=16, noise=0.4, seed=2)
    scores = np.random.default_rng(0).random(len(X))
    res = deita_select(X, scores, 150, min_distance=min_distance, block=64)
    picks = res.picks
    dist = 1 - X[picks] @ X[picks].T
    np.fill_diagonal(dist, np.inf)
    assert dist.min() > min_distance
    assert picks.tolist() == naive_deita(X, scores, 150, min_distance)


def test_takes_rows_by_score_first_and_skips_near_ones():
    X = as_unit_rows(np.array([[1, 0], [0.999, 0.04], [0, 1], [-1, 0], [0.7, 0.7]],
                              dtype=np.float32))
    scores = np.array([0.9, 0.95, 0.1, np.nan, 0.5])
    res = deita_select(X, scores, 3, min_distance=0.1)
    # 1 (best), 0 is within 0.1 of 1, then 4, then 2; NaN (no score) would come last
    assert res.picks.tolist() == [1, 4, 2]
    assert res.scanned == 4
    assert score_order(scores).tolist() == [1, 0, 4, 2, 3]


def test_fewer_picks_when_rows_run_out_and_kept_rows_come_first():
    X = as_unit_rows(np.repeat(np.eye(3, dtype=np.float32), 4, axis=0))  # 3 directions x 4
    scores = np.arange(12, dtype=float)
    res = deita_select(X, scores, 10, min_distance=0.1)
    assert res.picks.tolist() == [11, 7, 3]
    assert res.scanned == 12
    kept = deita_select(X, scores, 10, min_distance=0.1, initial=[0, 1])
    assert kept.picks.tolist() == [0, 1, 11, 7]  # kept rows may be close; 3 may not


def test_same_input_same_picks(planted):
    X, _ = planted
    scores = np.random.default_rng(5).random(len(X))
    a = deita_select(X, scores, 50, min_distance=0.05).picks
    assert a.tolist() == deita_select(X, scores, 50, min_distance=0.05).picks.tolist()
