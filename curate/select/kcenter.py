"""Exact k-center greedy (farthest-first traversal) on L2-normalised embeddings.

Each pick is the row farthest (cosine distance) from every row picked so far, ties going to
the lowest row index. The first pick is a seeded random row, or the rows that must be kept.

The greedy choice is sequential, but most of its work is not: a round takes the ``candidates``
rows that are farthest from the current picks (and ``tau``, the largest distance of any other
row), and runs the greedy on the candidates alone, updating only their distances, for as long
as the best candidate stays farther than ``tau``. Such a pick is exactly the one the plain
greedy makes: no row outside the candidates can be farther. The round's picks then update
every row's distance in one blocked matrix product, so the full data is read once per round
rather than once per pick, and the cost is dominated by ``n x k x dim`` multiply-adds in
BLAS-3. Memory beyond the input is ``n`` float32 distances plus one block of similarities.

(Keeping stale upper bounds and refreshing rows only when they reach the top was tried: on
random 384-d data distances concentrate so tightly that nearly every row must be refreshed
against nearly every pick anyway (0.99 of ``n x k``), and the bookkeeping made it slower.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..progress import bar
from .distance import min_distances, one_blas_thread

_PICKED = np.float32(-1.0)  # distance marker of rows already picked (real distances are >= 0)


@dataclass
class KCenterResult:
    """``picks``: row indices in pick order (kept rows first). ``distance``: each row's cosine
    distance to its nearest pick. ``pick_distance``: for each pick, its distance to the picks
    before it (the covering radius just before it was picked; ``inf`` for the first picks)."""

    picks: np.ndarray
    distance: np.ndarray
    pick_distance: np.ndarray

    @property
    def covering_radius(self) -> float:
        return float(self.distance.max()) if len(self.distance) else 0.0


def kcenter_greedy(X: np.ndarray, k: int, *, seed: int = 0, initial=None,
                   candidates: int = 2048, desc: str = "k-center") -> KCenterResult:
    """Pick ``k`` rows of ``X`` (unit rows, float32) by farthest-first traversal.

    ``initial``: row indices that are picked first (in the given order) and count towards ``k``;
    the traversal then starts from them instead of from a seeded random row.
    """
    n = X.shape[0]
    k = int(min(k, n))
    dist = np.full(n, np.inf, dtype=np.float32)
    picks: list[int] = []
    pick_dist: list[float] = []
    start = [] if initial is None else list(dict.fromkeys(int(i) for i in initial))
    if not start and k > 0:
        start = [int(np.random.default_rng(seed).integers(n))]
    if start:
        min_distances(X, X[start], dist)
        dist[start] = _PICKED
        picks += start
        pick_dist += [np.inf] * len(start)
    with bar(total=k, desc=desc, unit="picks") as progress:
        progress.update(len(picks))
        while len(picks) < k:
            new, new_dist = _round(X, dist, k - len(picks), candidates)
            min_distances(X, X[new], dist)
            dist[new] = _PICKED
            picks += new
            pick_dist += new_dist
            progress.update(len(new))
    dist[picks] = 0.0
    return KCenterResult(np.asarray(picks, dtype=np.int64), dist,
                         np.asarray(pick_dist, dtype=np.float32))


def _round(X: np.ndarray, dist: np.ndarray, budget: int, candidates: int
           ) -> tuple[list[int], list[float]]:
    """One round: the exact greedy picks that the candidate set can decide on its own."""
    n = len(dist)
    first = int(np.argmax(dist))  # the global farthest row, lowest index on ties
    new, new_dist = [first], [float(dist[first])]
    size = min(candidates, n)
    if size < n:
        part = np.argpartition(dist, n - size - 1)
        tau = dist[part[n - size - 1]]
        cand = np.sort(part[n - size:])
    else:
        tau, cand = -np.inf, np.arange(n)
    cx = X[cand]
    cdist = dist[cand].copy()
    cdist[cdist == _PICKED] = -np.inf
    with one_blas_thread():  # many small products: threads only add synchronisation
        cdist = np.minimum(cdist, np.maximum(np.float32(1.0) - cx @ X[first], 0.0))
        cdist[cand == first] = -np.inf
        while len(new) < budget:
            j = int(np.argmax(cdist))
            if not cdist[j] > tau or cdist[j] == -np.inf:
                break
            new.append(int(cand[j]))
            new_dist.append(float(cdist[j]))
            np.minimum(cdist, np.maximum(np.float32(1.0) - cx @ cx[j], 0.0), out=cdist)
            cdist[j] = -np.inf
    return new, new_dist
