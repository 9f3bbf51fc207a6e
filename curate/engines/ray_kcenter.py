"""k-center on Ray: the engine's ``kcenter`` on row shards held by actors.

The rows of the (unit, float32) embedding matrix are split into shards (whole
:data:`curate.select.kcenter.CHUNK` blocks), one per actor, each holding its rows and their
running distance to the nearest pick. Where the matrix is a :class:`curate.vectors.Vectors`
file (or a :class:`~curate.vectors.RowView` of one: the rows of a stratum), an actor gets the
file's handle and its rows' numbers and reads its rows from the shared storage, memory-mapped;
an in-memory array is sent to the actors in slices. Each round the driver gathers from every
shard its ``candidates + 1`` farthest rows (distance, global index, vector), merges them into
the round's candidates and ``tau`` and runs the in-candidate greedy
(:func:`curate.select.kcenter.farthest_first`, the very code of the local engine); the round's
new picks then go to every shard, which lowers its distances by them. The initial picks go the
same way, and the final distances come back for the coverage stats. The distance update works
on the same blocks on one BLAS thread on either engine, so the picks are exactly the local ones.

Examples:
    ```python
    pool = KCenterPool(get_engine("ray"))
    result = pool.kcenter(X, 1000)
    pool.close()
    ```
"""

from __future__ import annotations

import math

import numpy as np

from ..select.kcenter import CHUNK, KCenterResult, LocalRows, farthest, farthest_first
from ..vectors import RowView, Vectors


class KCenterShard:
    """A Ray actor: one shard of the rows and their running distances (a
    :class:`~curate.select.kcenter.LocalRows` on one thread), reloaded for each k-center."""

    def load(self, X, offset: int, end: int | None = None) -> None:
        """The rows ``[offset, end)`` of ``X`` (a view of a file), or ``X`` itself (the
        shard's rows, sent by the driver) when ``end`` is None."""
        if end is not None:
            X = X.base[offset:end] if X.rows is None else X.subset(np.arange(offset, end))
        self.rows = LocalRows(X, offset, workers=1)

    def add_picks(self, picks: np.ndarray, vectors: np.ndarray) -> None:
        self.rows.add_picks(picks, vectors)

    def top(self, m: int):
        return self.rows.top(m)

    def vectors(self, idx: np.ndarray) -> np.ndarray:
        return self.rows.vectors(idx)

    def distances(self) -> np.ndarray:
        return self.rows.distances()


class ShardedRows:
    """The rows of ``X`` split over ``actors`` (:class:`KCenterShard`), with the methods of
    :class:`~curate.select.kcenter.LocalRows` that :func:`farthest_first` calls."""

    def __init__(self, actors: list, X):
        import ray  # optional

        self.n, self.dim = X.shape
        per = max(1, math.ceil(math.ceil(self.n / CHUNK) / len(actors))) * CHUNK
        self.bounds = [(s, min(s + per, self.n)) for s in range(0, self.n, per)]
        self.actors = actors[:len(self.bounds)]
        if isinstance(X, Vectors):
            X = RowView(X)
        if isinstance(X, RowView) and isinstance(X.source, Vectors):
            shared = ray.put(X)  # the file's handle and the rows' numbers
            loads = [a.load.remote(shared, s, e) for a, (s, e) in zip(self.actors, self.bounds)]
        else:
            loads = [a.load.remote(np.asarray(X[s:e]), s)
                     for a, (s, e) in zip(self.actors, self.bounds)]
        ray.get(loads)
        self.pending: list = []

    def __len__(self) -> int:
        return self.n

    def vectors(self, idx) -> np.ndarray:
        import ray  # optional

        idx = np.asarray(idx, dtype=np.int64)
        out = np.empty((len(idx), self.dim), dtype=np.float32)
        parts = [(idx >= s) & (idx < e) for s, e in self.bounds]
        refs = [a.vectors.remote(idx[m]) for a, m in zip(self.actors, parts) if m.any()]
        for m, vec in zip([m for m in parts if m.any()], ray.get(refs)):
            out[m] = vec
        return out

    def add_picks(self, picks, vectors: np.ndarray) -> None:
        import ray  # optional

        p, v = ray.put(np.asarray(picks, dtype=np.int64)), ray.put(np.asarray(vectors))
        self.pending += [a.add_picks.remote(p, v) for a in self.actors]

    def top(self, m: int):
        import ray  # optional

        refs = [a.top.remote(m) for a in self.actors]
        self._settle()
        parts = ray.get(refs)
        idx, dist, vec = (np.concatenate([p[i] for p in parts]) for i in range(3))
        pos = farthest(idx, dist, m)
        return idx[pos], dist[pos], vec[pos]

    def distances(self) -> np.ndarray:
        import ray  # optional

        self._settle()
        parts = ray.get([a.distances.remote() for a in self.actors])
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def _settle(self) -> None:
        """Wait for the updates sent (and raise their errors)."""
        import ray  # optional

        ray.get(self.pending)
        self.pending = []


class KCenterPool:
    """The actors of the k-center shards: ``shards`` of them (default: one per CPU of the
    cluster), started on first use, shared by the stage's k-center runs (one per stratum)."""

    def __init__(self, engine, shards: int | None = None):
        self.engine, self.shards, self.actors = engine, shards, []

    def kcenter(self, X, k: int, **options) -> KCenterResult:
        """:func:`curate.select.kcenter.kcenter_greedy` with the rows on the actors."""
        if not self.actors:
            import ray  # optional

            cpus = self.engine.parallelism()
            shards = self.shards or cpus
            # the shards hold rows between the picks and reserve no CPU: a stage that applies
            # its picks with tasks while the pool is alive would otherwise wait for CPUs
            # the shards hold for ever
            actor = ray.remote(KCenterShard).options(num_cpus=0)
            self.actors = [actor.remote() for _ in range(shards)]
        options.setdefault("desc", "k-center on shards")
        return farthest_first(ShardedRows(self.actors, X), k, **options)

    def close(self) -> None:
        import ray  # optional

        for a in self.actors:
            ray.kill(a)
        self.actors = []
