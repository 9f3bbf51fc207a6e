"""Exact k-center greedy (farthest-first traversal) on L2-normalised embeddings.

Each pick is the row farthest (cosine distance) from every row picked so far, ties going to
the lowest row index. The first pick is a seeded random row, or the rows that must be kept.

The greedy choice is sequential, but most of its work is not: a round takes the ``candidates``
rows that are farthest from the current picks (ties to the lowest index) and ``tau``, the
distance of the next farthest row, and runs the greedy on the candidates alone, updating only
their distances, for as long as the best candidate stays farther than ``tau``. Such a pick is
exactly the one the plain greedy makes: no row outside the candidates can be farther. The
round's picks then update every row's distance in one blocked matrix product, so the full data
is read once per round rather than once per pick, and the cost is dominated by
``n x k x dim`` multiply-adds in BLAS-3. Memory beyond the input is ``n`` float32 distances
plus one block of similarities; the rows are read ``CHUNK`` at a time, so they may be a
memory-mapped file (:mod:`curate.vectors`).

The rows and their running distances are an object with four methods (:class:`LocalRows`
here; the Ray engine's shards in :mod:`curate.engines.ray_kcenter`), and :func:`farthest_first`
runs the same rounds on either. A BLAS product's rounding depends on the shape of the call and
on its thread count, so the distance update always works on the same ``CHUNK``-row blocks,
each on one BLAS thread (blocks run side by side on a thread pool instead): every row gets the
very same float32 distances however the rows are split, and so the same picks.

(Keeping stale upper bounds and refreshing rows only when they reach the top was tried: on
random 384-d data distances concentrate so tightly that nearly every row must be refreshed
against nearly every pick anyway (0.99 of ``n x k``), and the bookkeeping made it slower.)
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..progress import bar
from .distance import min_distances, one_blas_thread

_PICKED = np.float32(-1.0)  # distance marker of rows already picked (real distances are >= 0)
CHUNK = 1024  # rows per distance-update block; shards start at multiples of it


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


def blas_threads() -> int:
    """How many threads BLAS would use here (the thread pool of the distance update)."""
    try:
        from threadpoolctl import threadpool_info  # installed with scikit-learn
    except ImportError:  # pragma: no cover
        return 1
    return max([1] + [int(i["num_threads"]) for i in threadpool_info()
                      if i.get("user_api") == "blas"])


def farthest(idx: np.ndarray, dist: np.ndarray, m: int) -> np.ndarray:
    """Positions of the ``m`` farthest rows (``dist`` descending, then ``idx`` ascending)."""
    return np.lexsort((idx, -dist))[:m]


class LocalRows:
    """Unit rows and each row's running distance to its nearest pick, in this process.

    ``X``: an array, a memory-mapped one or a :class:`curate.vectors.RowView` (read
    ``CHUNK`` rows at a time). ``offset``: the global index of the first row (when these rows
    are one shard of a larger matrix). ``workers``: threads of the distance update (default:
    BLAS's thread count).
    """

    def __init__(self, X, offset: int = 0, workers: int | None = None):
        self.X, self.offset = X, int(offset)
        self.dist = np.full(X.shape[0], np.inf, dtype=np.float32)
        self.workers = blas_threads() if workers is None else max(1, int(workers))

    def __len__(self) -> int:
        return self.X.shape[0]

    def vectors(self, idx) -> np.ndarray:
        """The rows with these global indices."""
        return np.asarray(self.X[np.asarray(idx, dtype=np.int64) - self.offset])

    def add_picks(self, picks, vectors: np.ndarray) -> None:
        """Lower each row's distance by the new picks (global indices, their ``vectors``)."""
        X, dist = self.X, self.dist
        starts = range(0, len(X), CHUNK)

        def block(s: int) -> None:
            min_distances(np.asarray(X[s:s + CHUNK]), vectors, dist[s:s + CHUNK])

        with one_blas_thread():
            if self.workers > 1 and len(starts) > 1:
                with ThreadPoolExecutor(min(self.workers, len(starts))) as pool:
                    list(pool.map(block, starts))
            else:
                for s in starts:
                    block(s)
        local = np.asarray(picks, dtype=np.int64) - self.offset
        dist[local[(local >= 0) & (local < len(X))]] = _PICKED

    def top(self, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``m`` farthest rows (see :func:`farthest`): global indices, distances, vectors."""
        dist, n = self.dist, len(self.dist)
        if m < n:
            part = np.argpartition(dist, n - m)[n - m:]  # the m largest; ties cut anyhow
            edge = dist[part].min()
            above = np.flatnonzero(dist > edge)
            sel = np.concatenate([above, np.flatnonzero(dist == edge)[:m - len(above)]])
        else:
            sel = np.arange(n)
        sel = sel[farthest(sel, dist[sel], m)]
        return sel + self.offset, dist[sel], np.asarray(self.X[sel])

    def distances(self) -> np.ndarray:
        """Every row's distance to its nearest pick (``-1`` on picked rows)."""
        return self.dist


def kcenter_greedy(X, k: int, *, seed: int = 0, initial=None,
                   candidates: int = 2048, desc: str = "k-center") -> KCenterResult:
    """Pick ``k`` rows of ``X`` (unit rows, float32: an array, a memory-mapped one or a
    :class:`curate.vectors.RowView`) by farthest-first traversal.

    ``initial``: row indices that are picked first (in the given order) and count towards ``k``;
    the traversal then starts from them instead of from a seeded random row.
    """
    return farthest_first(LocalRows(X), k, seed=seed, initial=initial, candidates=candidates,
                          desc=desc)


def farthest_first(rows, k: int, *, seed: int = 0, initial=None, candidates: int = 2048,
                   desc: str = "k-center", placed: bool = False) -> KCenterResult:
    """:func:`kcenter_greedy` on ``rows``: any object with ``len()`` and the methods of
    :class:`LocalRows` (``vectors``, ``add_picks``, ``top``, ``distances``). ``placed``: the
    rows' distances already count the ``initial`` picks (they are not added again)."""
    n = len(rows)
    k = int(min(k, n))
    picks: list[int] = []
    pick_dist: list[float] = []
    start = [] if initial is None else list(dict.fromkeys(int(i) for i in initial))
    if not start and k > 0:
        start = [int(np.random.default_rng(seed).integers(n))]
    if start and not placed:
        rows.add_picks(start, rows.vectors(start))
        picks += start
        pick_dist += [np.inf] * len(start)
    size = min(candidates, n)
    with bar(total=k, desc=desc, unit="picks") as progress:
        progress.update(len(picks))
        while len(picks) < k:
            new, new_dist, new_vec = _round(*rows.top(size + 1), size, k - len(picks))
            rows.add_picks(new, new_vec)
            picks += new
            pick_dist += new_dist
            progress.update(len(new))
    dist = rows.distances()
    dist[picks] = 0.0
    return KCenterResult(np.asarray(picks, dtype=np.int64), dist,
                         np.asarray(pick_dist, dtype=np.float32))


def _round(idx: np.ndarray, dist: np.ndarray, vec: np.ndarray, size: int, budget: int
           ) -> tuple[list[int], list[float], np.ndarray]:
    """One round on the farthest rows (``idx``, ``dist``, ``vec`` as :meth:`LocalRows.top`
    returns ``size + 1`` of them, or all rows when there are fewer): the exact greedy picks
    that the first ``size`` (the candidates) can decide on their own, their distances and
    vectors."""
    first = int(idx[0])  # the global farthest row, lowest index on ties
    new, new_dist = [first], [float(dist[0])]
    tau = dist[size] if len(idx) > size else -np.inf
    order = np.argsort(idx[:size], kind="stable")
    cand, cx = idx[order], vec[order]
    cdist = dist[order].copy()
    cdist[cdist == _PICKED] = -np.inf
    rows = [int(np.flatnonzero(cand == first)[0])]
    with one_blas_thread():  # many small products: threads only add synchronisation
        cdist = np.minimum(cdist, np.maximum(np.float32(1.0) - cx @ vec[0], 0.0))
        cdist[rows[0]] = -np.inf
        while len(new) < budget:
            j = int(np.argmax(cdist))
            if not cdist[j] > tau or cdist[j] == -np.inf:
                break
            new.append(int(cand[j]))
            new_dist.append(float(cdist[j]))
            rows.append(j)
            np.minimum(cdist, np.maximum(np.float32(1.0) - cx @ cx[j], 0.0), out=cdist)
            cdist[j] = -np.inf
    return new, new_dist, cx[rows]
