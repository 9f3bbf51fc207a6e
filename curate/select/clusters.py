"""k-means clusters of the embeddings and selection by cluster quotas.

:func:`kmeans` labels rows (spherical k-means in blocked numpy, seeded, fitted on
a sample of at most ``FIT_ROWS`` rows). :func:`cluster_select` gives each cluster a quota
(``uniform``, ``proportional`` or ``sqrt`` of its size, adding up to the budget, see
:func:`curate.select.budget.quotas`) and fills it at random or by k-center greedy inside the
cluster. Picks are ranked by :func:`curate.select.budget.interleave`, so any prefix of the ranking
keeps the clusters' shares too.
"""

from __future__ import annotations

import numpy as np

from .budget import interleave, quotas
from .distance import block_rows
from .kcenter import kcenter_greedy

FIT_ROWS = 50_000
MAX_ITER = 30
N_INIT = 1
WITHIN = ("random", "kcenter")


def default_n_clusters(n_rows: int, budget: int) -> int:
    """``sqrt(rows)``, at least 2, at most 256 and at most the budget and the rows."""
    k = max(2, int(round(np.sqrt(max(n_rows, 1)))))
    return max(1, min(k, 256, max(budget, 1), max(n_rows, 1)))


def kmeans(X, n_clusters: int, *, seed: int = 0, n_init: int = N_INIT,
           max_iter: int = MAX_ITER, fit_rows: int = FIT_ROWS) -> np.ndarray:
    """Spherical k-means labels (int32, 0..n_clusters-1) of the unit rows of ``X``.

    ``n_init`` seeded greedy k-means++ starts, each followed by Lloyd steps (nearest centre by
    cosine, centre = normalised mean) until no label changes or ``max_iter``; the start with
    the smallest total distance wins. The centres are fitted on a seeded sample of at most
    ``fit_rows`` rows and every row is then labelled in one blocked pass, so the cost is
    bounded whatever the number of rows. Labels are numbered by the first row of each cluster,
    so they do not depend on the order of the centres.
    """
    n = X.shape[0]
    n_clusters = int(min(n_clusters, n))
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    if n_clusters <= 1:
        return np.zeros(n, dtype=np.int32)
    rng = np.random.default_rng(seed)
    rows = np.arange(n) if n <= fit_rows else np.sort(rng.choice(n, fit_rows, replace=False))
    centers, labels = fit_centers(np.asarray(X[rows]), n_clusters, rng, n_init=n_init,
                                  max_iter=max_iter)
    raw = labels if n <= fit_rows else nearest_center(X, centers)[0]
    _, first = np.unique(raw, return_index=True)
    renumber = np.zeros(n_clusters, dtype=np.int32)
    renumber[raw[np.sort(first)]] = np.arange(len(first), dtype=np.int32)
    return renumber[raw]


def fit_centers(fit: np.ndarray, n_clusters: int, rng: np.random.Generator, *,
                n_init: int = N_INIT, max_iter: int = MAX_ITER
                ) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means of the unit rows ``fit`` (see :func:`kmeans`): the unit centres
    and each row's label."""
    best_cost, centers, labels = np.inf, None, None
    for _ in range(max(1, n_init)):
        c, lab, cost = _lloyd(fit, _kmeans_pp(fit, n_clusters, rng), max_iter)
        if cost < best_cost:
            best_cost, centers, labels = cost, c, lab
    return centers, labels


def _lloyd(X: np.ndarray, centers: np.ndarray, max_iter: int):
    labels, best = nearest_center(X, centers)
    for _ in range(max_iter):
        centers = _means(X, labels, len(centers), best)
        new, best = nearest_center(X, centers)
        if np.array_equal(new, labels):
            break
        labels = new
    return centers, labels, float(np.sum(1.0 - best, dtype=np.float64))


def nearest_center(X: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's most similar centre (cosine) and that similarity, in row blocks."""
    labels = np.empty(X.shape[0], dtype=np.int32)
    best = np.empty(X.shape[0], dtype=np.float32)
    ct = np.ascontiguousarray(centers.T, dtype=np.float32)
    step = block_rows(ct.shape[1])
    for s in range(0, X.shape[0], step):
        sims = np.asarray(X[s:s + step]) @ ct
        labels[s:s + step] = sims.argmax(axis=1)
        best[s:s + step] = sims[np.arange(len(sims)), labels[s:s + step]]
    return labels, best


def _kmeans_pp(X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++ seeding (as scikit-learn's): each new centre is the best of
    ``2 + log(k)`` rows drawn in proportion to their squared chord distance ``2 - 2 cos``."""
    trials = 2 + int(np.log(k))
    idx = [int(rng.integers(len(X)))]
    d2 = np.maximum(2.0 - 2.0 * (X @ X[idx[0]]), 0.0).astype(np.float64)
    for _ in range(1, k):
        total = d2.sum()
        if total <= 0:
            idx.append(int(rng.integers(len(X))))
            continue
        cand = np.searchsorted(np.cumsum(d2), rng.random(trials) * total).clip(0, len(X) - 1)
        options = np.minimum(d2[None, :], np.maximum(2.0 - 2.0 * (X[cand] @ X.T), 0.0))
        best = int(np.argmin(options.sum(axis=1)))
        idx.append(int(cand[best]))
        d2 = options[best]
    return X[idx].copy()


def _means(X: np.ndarray, labels: np.ndarray, k: int, best: np.ndarray) -> np.ndarray:
    """Normalised cluster means; an empty cluster takes the row worst served by its centre."""
    order = np.argsort(labels, kind="stable")
    present, starts = np.unique(labels[order], return_index=True)
    sums = np.zeros((k, X.shape[1]), dtype=np.float32)
    sums[present] = np.add.reduceat(X[order], starts, axis=0)
    norms = np.linalg.norm(sums, axis=1)
    empty = np.flatnonzero(norms == 0)
    if len(empty):
        worst = np.argsort(best, kind="stable")[:len(empty)]
        sums[empty], norms[empty] = X[worst], 1.0
    return sums / norms[:, None]


def cluster_select(X, labels: np.ndarray, k: int, *, per_cluster: str = "uniform",
                   within: str = "kcenter", seed: int = 0, initial=None) -> np.ndarray:
    """Pick ``k`` rows by cluster quotas; returns row indices in rank order.

    ``initial`` rows are always picked: each counts towards its cluster's quota (a quota is
    never below the cluster's kept rows), comes first in its cluster, and k-center inside the
    cluster starts from them.
    """
    n = len(labels)
    k = int(min(k, n))
    keep = np.zeros(n, dtype=bool)
    if initial is not None and len(initial):
        keep[np.asarray(initial, dtype=np.int64)] = True
    n_groups = int(labels.max()) + 1 if n else 0
    sizes = np.bincount(labels, minlength=n_groups)
    floors = np.bincount(labels[keep], minlength=n_groups)
    quota = quotas(k, sizes, mode=per_cluster, floors=floors)
    rng = np.random.default_rng(seed)
    per: list[np.ndarray] = []
    for c in range(n_groups):
        rows = np.flatnonzero(labels == c)
        kept = rows[keep[rows]]
        if quota[c] == 0:
            per.append(rows[:0])
        elif within == "kcenter":
            local = kcenter_greedy(np.asarray(X[rows]), int(quota[c]),
                                   seed=int(rng.integers(2**31)),
                                   initial=np.searchsorted(rows, kept) if len(kept) else None,
                                   desc=f"k-center cluster {c}")
            per.append(rows[local.picks])
        else:
            rest = rng.permutation(rows[~keep[rows]])
            per.append(np.concatenate([kept, rest[:quota[c] - len(kept)]]))
    return interleave(per)

