"""Embedding-based diversity sampling on a float32 array of unit rows.

    select_rows(X, budget, method="facility"|"kcenter"|"deita"|"clusters"|"random", ...)
        -> Selection

The algorithms live in one module each (:mod:`.facility` on the graph of :mod:`.knn`, with
:mod:`.cover` and :mod:`.refine`,
:mod:`.kcenter`, :mod:`.deita`, :mod:`.clusters`);
:mod:`.budget` turns a count or fraction into quotas that add up, :mod:`.coverage` measures a
sample against a random one. Nothing here reads records or models: the ``select.diverse`` stage
(:mod:`curate.stages.select_diverse`) embeds the records and calls :func:`select_rows`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import CurateError
from ..vectors import view
from .budget import allocate, interleave
from .clusters import cluster_select
from .deita import deita_select
from .facility import NEIGHBOURS, OUTLIER_SHARE, facility_kcenter
from .kcenter import KCenterResult, kcenter_greedy
from .knn import serial_map

METHODS = ("facility", "kcenter", "deita", "clusters", "random")


@dataclass
class Selection:
    """``picks``: row indices in rank order. ``distance``: each row's distance to its nearest
    pick when the method computed it (facility and k-center without strata), else None."""

    picks: np.ndarray
    distance: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)


def select_rows(X, budget: int, *, method: str = "facility", seed: int = 0,
                keep: np.ndarray | None = None, scores: np.ndarray | None = None,
                min_distance: float = 0.1, labels: np.ndarray | None = None,
                per_cluster: str = "uniform", within_cluster: str = "kcenter",
                strata: np.ndarray | None = None,
                kcenter: Callable[..., KCenterResult] = kcenter_greedy,
                outlier_share: float = OUTLIER_SHARE, neighbours: int = NEIGHBOURS,
                map: Callable = serial_map) -> Selection:
    """Pick ``budget`` rows of ``X`` (unit float32 rows: an array, a memory-mapped one, or a
    :class:`curate.vectors.RowView`; each stratum is passed on as a view of its rows).

    ``keep``: boolean mask of rows that are always picked (they count towards the budget).
    ``scores``: per-row score for ``deita`` (NaN = no score, visited last), and the quality
    weight of ``facility`` when given. ``labels``: cluster
    per row for ``clusters``. ``strata``: integer stratum per row; each stratum gets a share of
    the budget proportional to its size (never below its kept rows) and is sampled on its own.
    ``kcenter``: the k-center of method ``kcenter`` (:func:`.kcenter.kcenter_greedy`'s
    signature; the Ray engine passes its sharded one), also the distances of ``facility``'s
    first picks. Inside clusters it stays local. ``facility``: facility location on a graph
    of ``neighbours`` nearest rows per row, then ``outlier_share`` of the budget by a set
    cover of the rows left far, then swaps (:func:`.facility.facility_kcenter`); ``map`` runs
    the pieces of the graph's search (the engine's ``map``; default: a loop here).
    """
    if method not in METHODS:
        raise CurateError(f"unknown selection method {method!r} (known: {', '.join(METHODS)})")
    if method == "deita" and scores is None:
        raise CurateError("method deita needs a score per row (score_column)")
    if method == "clusters" and labels is None:
        raise CurateError("method clusters needs a cluster label per row")
    n = X.shape[0]
    keep = np.zeros(n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    budget = int(min(budget, n))
    if int(keep.sum()) > budget:
        raise CurateError(f"{int(keep.sum())} rows must be kept but the budget is {budget}")
    args = dict(method=method, seed=seed, min_distance=min_distance,
                per_cluster=per_cluster, within_cluster=within_cluster, kcenter=kcenter,
                outlier_share=outlier_share, neighbours=neighbours, map=map)
    if strata is None:
        return _select_one(X, budget, keep, scores, labels, **args)
    strata = np.asarray(strata, dtype=np.int64)
    n_strata = int(strata.max()) + 1 if n else 0
    sizes = np.bincount(strata, minlength=n_strata)
    share = allocate(budget, sizes, sizes, np.bincount(strata[keep], minlength=n_strata))
    parts, info = [], {"strata": share.tolist()}
    for s in range(n_strata):
        rows = np.flatnonzero(strata == s)
        if share[s] == 0:
            parts.append(rows[:0])
            continue
        sub = _select_one(view(X, rows), int(share[s]), keep[rows],
                          None if scores is None else scores[rows],
                          None if labels is None else labels[rows], **{**args, "seed": seed + s})
        parts.append(rows[sub.picks])
        for key, value in sub.info.items():
            info[key] = info.get(key, 0) + value
    return Selection(interleave(parts), None, info)


def compare_methods(X, budget: int, method: str, **options) -> dict[str, dict[str, Any]]:
    """The coverage (:func:`.coverage.coverage`) of every method other than ``method`` at the
    same ``budget`` and :func:`select_rows` ``options`` (deita only where there are scores)."""
    from .coverage import coverage  # startup

    out = {}
    for other in METHODS:
        if other == method or (other == "deita" and options.get("scores") is None):
            continue
        sel = select_rows(X, budget, method=other, **options)
        out[other] = coverage(X, sel.picks, options.get("labels"), distance=sel.distance,
                              seed=options.get("seed", 0))
    return out


def _select_one(X, budget, keep, scores, labels, *, method, seed, min_distance, per_cluster,
                within_cluster, kcenter, outlier_share, neighbours, map) -> Selection:
    initial = np.flatnonzero(keep)
    if method == "facility":
        res, info = facility_kcenter(X, budget, seed=seed, initial=initial, scores=scores,
                                     outlier_share=outlier_share, neighbours=neighbours,
                                     map=map, kcenter=kcenter)
        return Selection(res.picks, res.distance, info)
    if method == "kcenter":
        res = kcenter(X, budget, seed=seed, initial=initial if len(initial) else None)
        return Selection(res.picks, res.distance)
    if method == "deita":
        res = deita_select(X, scores, budget, min_distance=min_distance, initial=initial)
        return Selection(res.picks, None, {"scanned": res.scanned,
                                           "short_by": budget - len(res.picks)})
    if method == "clusters":
        picks = cluster_select(X, labels, budget, per_cluster=per_cluster, within=within_cluster,
                               seed=seed, initial=initial)
        return Selection(picks)
    rest = np.random.default_rng(seed).permutation(np.flatnonzero(~keep))
    return Selection(np.concatenate([initial, rest[:budget - len(initial)]]).astype(np.int64))

