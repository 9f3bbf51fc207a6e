import numpy as np
import pytest

from curate.select.coverage import coverage, coverage_report, pca_axes, pca_map
from curate.select.distance import as_unit_rows, min_distances


def test_coverage_on_a_hand_example():
    X = as_unit_rows(np.array([[1, 0], [0, 1], [-1, 0], [0.6, 0.8]], dtype=np.float32))
    labels = np.array([0, 1, 2, 1])
    cov = coverage(X, np.array([0, 1]), labels)
    # row 2 is opposite row 0 and orthogonal to row 1: distance 1; row 3 is 0.2 from row 1
    assert cov == {"picks": 2, "covering_radius": 1.0, "mean_distance": 0.3,
                   "clusters": 3, "clusters_covered": 2}


def test_min_distances_blocked_equals_brute_force():
    rng = np.random.default_rng(0)
    X = as_unit_rows(rng.standard_normal((3000, 20)).astype(np.float32))
    C = X[rng.choice(3000, 700, replace=False)]
    brute = np.maximum(1 - (X @ C.T).max(axis=1), 0)
    np.testing.assert_allclose(min_distances(X, C), brute, atol=1e-6)
    running = np.full(3000, 0.5, dtype=np.float32)
    min_distances(X, C, running)
    np.testing.assert_allclose(running, np.minimum(brute, 0.5), atol=1e-6)


def test_report_puts_a_random_sample_of_the_same_size_beside(planted):
    X, topic = planted
    rep = coverage_report(X, np.arange(10), topic, seed=1)
    assert rep["sample"]["picks"] == rep["random"]["picks"] == 10
    assert rep == coverage_report(X, np.arange(10), topic, seed=1)


def test_map_shows_the_picks_and_is_stable(planted):
    X, topic = planted
    picks = np.arange(0, 3000, 10)
    m = pca_map(X, picks, topic, seed=0, max_points=1000)
    assert m.height == 1000 and m["picked"].sum() == 300
    assert set(m.filter(m["picked"])["row"].to_list()) == set(picks.tolist())
    assert m.equals(pca_map(X, picks, topic, seed=0, max_points=1000))
    axes = pca_axes(X)
    assert axes.shape == (X.shape[1], 2)
    np.testing.assert_allclose(np.linalg.norm(axes, axis=0), [1, 1], atol=1e-5)
    assert abs(float(axes[:, 0] @ axes[:, 1])) < 1e-5


def test_non_finite_embeddings_are_an_error():
    from curate.errors import CurateError

    with pytest.raises(CurateError, match="NaN"):
        as_unit_rows(np.array([[1.0, np.nan]], dtype=np.float32))


def test_pruned_covering_radius_is_exact():
    from curate.select.distance import covering_radius

    rng = np.random.default_rng(3)
    X = as_unit_rows(rng.standard_normal((5000, 16)).astype(np.float32))
    for k in (1, 7, 300):
        C = X[rng.choice(5000, k, replace=False)]
        exact = float(np.maximum(1 - (X @ C.T).max(axis=1), 0).max())
        assert covering_radius(X, C, chunk=64, probe=50) == pytest.approx(exact, abs=1e-6)
