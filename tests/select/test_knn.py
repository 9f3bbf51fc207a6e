"""The k-nearest-neighbour graph: exact up to EXACT_ROWS, blocked above, the same however its
pieces run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from curate.select.knn import knn_graph, serial_map

from .conftest import topics


def brute(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k most similar other rows, ties to the lower row (a dense reference)."""
    S = X @ X.T
    np.fill_diagonal(S, -np.inf)
    order = np.argsort(-S, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(S, order, axis=1)


def test_the_exact_graph_is_the_dense_one_with_ties_to_the_lower_row():
    X, _ = topics((300, 100, 20), dim=12, seed=3)
    X[50] = X[10]  # copies: equal similarities to everyone
    X[60] = X[10]
    graph = knn_graph(X, 5)
    order, sims = brute(X, 5)
    assert np.array_equal(graph.neighbours, order)
    assert np.allclose(graph.similarity, sims, atol=1e-6)
    assert graph.neighbours[10, :2].tolist() == [50, 60]  # its copies, lower row first
    assert graph.neighbours[50, :2].tolist() == [10, 60]


def test_zero_rows_have_no_neighbours_and_are_nobodys():
    X, _ = topics((40, 30), dim=8, seed=1)
    X[[3, 17]] = 0
    graph = knn_graph(X, 4)
    assert (graph.neighbours[[3, 17]] == -1).all()
    assert not np.isin(graph.neighbours, [3, 17]).any()
    small = knn_graph(X[:3], 4)  # fewer rows than k: padded with -1
    assert [sorted(r[:2]) for r in small.neighbours.tolist()] == [[1, 2], [0, 2], [0, 1]]
    assert (small.neighbours[:, 2:] == -1).all() and (small.similarity[:, 2:] == -np.inf).all()


def test_the_blocked_graph_lists_true_similarities_of_rows_of_the_same_topic():
    X, topic = topics((900, 600, 300, 200), dim=24, noise=0.2, seed=5)
    graph = knn_graph(X, 6, clusters=12, seed=2)
    nbr, sim = graph.neighbours, graph.similarity
    assert (nbr >= 0).all() and (nbr != np.arange(len(X))[:, None]).all()
    true = np.einsum("ij,ikj->ik", X, X[nbr])
    assert np.allclose(sim, true, atol=1e-5)
    assert (np.diff(sim, axis=1) <= 0).all()  # nearest first
    assert (topic[nbr] == topic[:, None]).all()  # well separated topics: never across
    exact = knn_graph(X, 6)
    found = np.mean([len(set(a) & set(b)) / 6 for a, b in zip(nbr, exact.neighbours)])
    assert found > 0.5


def test_the_pieces_may_run_anywhere_in_any_order():
    X, _ = topics((700, 500), dim=16, seed=4)

    def pool_map(fn, items, *, desc="", sizes=None, threads=1):
        with ThreadPoolExecutor(3) as pool:
            done = {i: pool.submit(fn, item) for i, item in reversed(list(enumerate(items)))}
        return [done[i].result() for i in range(len(items))]

    for clusters in (None, 9):
        a = knn_graph(X, 7, clusters=clusters, seed=1, map=serial_map)
        b = knn_graph(X, 7, clusters=clusters, seed=1, map=pool_map)
        assert np.array_equal(a.neighbours, b.neighbours)
        assert np.array_equal(a.similarity, b.similarity)
