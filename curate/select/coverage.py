"""How well a sample covers the data, next to a random sample of the same size, and a 2-D map.

Covering radius: the largest cosine distance from any row to its nearest pick (the k-center
objective; smaller is better). Mean distance: the average of those distances (over a sample of
``MEAN_ROWS`` rows on large inputs). Clusters covered: how many k-means clusters hold at least
one pick.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from .distance import covering_radius, min_distances

MAP_POINTS = 4000
MEAN_ROWS = 50_000
PCA_FIT_ROWS = 20_000


def coverage(X: np.ndarray, picks: np.ndarray, labels: np.ndarray | None = None, *,
             distance: np.ndarray | None = None, seed: int = 0) -> dict[str, Any]:
    """Covering radius, mean distance and clusters covered of ``picks`` (row indices).

    ``distance``: each row's distance to its nearest pick when already known (k-center
    computes it). Otherwise the radius is computed exactly by
    :func:`curate.select.distance.covering_radius` (which skips most of the work), and the mean
    over all rows up to ``MEAN_ROWS`` rows, over a seeded sample of that many rows above."""
    picks = np.asarray(picks, dtype=np.int64)
    n = X.shape[0]
    out: dict[str, Any] = {"picks": int(len(picks))}
    if len(picks) and n:
        if distance is not None:
            radius, mean = float(distance.max()), float(distance.mean())
        else:
            radius = covering_radius(X, X[picks], seed=seed)
            rows = (np.arange(n) if n <= MEAN_ROWS
                    else np.random.default_rng(seed).choice(n, MEAN_ROWS, replace=False))
            mean = float(min_distances(X[rows], X[picks]).mean())
        out["covering_radius"], out["mean_distance"] = round(radius, 6), round(mean, 6)
    else:
        out["covering_radius"] = None
        out["mean_distance"] = None
    if labels is not None and len(labels):
        out["clusters"] = int(labels.max()) + 1
        out["clusters_covered"] = int(len(np.unique(labels[picks]))) if len(picks) else 0
    return out


def random_picks(n_rows: int, size: int, *, seed: int = 0) -> np.ndarray:
    """A seeded uniform random sample of ``size`` row indices."""
    return np.random.default_rng(seed).permutation(n_rows)[:size]


def coverage_report(X: np.ndarray, picks: np.ndarray, labels: np.ndarray | None = None, *,
                    seed: int = 0, distance: np.ndarray | None = None) -> dict[str, Any]:
    """``{"sample": coverage(picks), "random": coverage(a random sample of the same size)}``."""
    baseline = random_picks(X.shape[0], len(picks), seed=seed)
    return {"sample": coverage(X, picks, labels, distance=distance, seed=seed),
            "random": coverage(X, baseline, labels, seed=seed)}


def pca_axes(X: np.ndarray, dims: int = 2) -> np.ndarray:
    """The first ``dims`` principal axes of ``X`` as columns (``dim x dims``), each signed so
    that its largest component is positive (so the map does not flip between runs)."""
    axes = np.zeros((X.shape[1], dims), dtype=np.float32)
    if X.shape[0] < 2:
        return axes
    _, _, vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    top = vt[:dims]
    signs = np.sign(top[np.arange(len(top)), np.abs(top).argmax(axis=1)])
    axes[:, :len(top)] = (top * signs[:, None]).T
    return axes


def pca_map(X: np.ndarray, picks: np.ndarray, labels: np.ndarray | None = None, *,
            seed: int = 0, max_points: int = MAP_POINTS) -> pl.DataFrame:
    """A 2-D PCA projection of up to ``max_points`` rows (all picks first, up to half of the
    points, then other rows at random), as columns ``row``, ``x``, ``y``, ``picked``,
    ``cluster``. PCA is fitted on at most ``PCA_FIT_ROWS`` rows."""
    n = X.shape[0]
    rng = np.random.default_rng(seed)
    picks = np.asarray(picks, dtype=np.int64)
    chosen = np.zeros(n, dtype=bool)
    chosen[picks] = True
    if n <= max_points:
        rows = np.arange(n)
    else:
        shown = picks if len(picks) <= max_points // 2 else rng.choice(picks, max_points // 2,
                                                                         replace=False)
        others = np.flatnonzero(~chosen)
        rest = rng.choice(others, min(len(others), max_points - len(shown)), replace=False)
        rows = np.sort(np.concatenate([shown, rest]))
    fit = np.asarray(X[np.arange(n) if n <= PCA_FIT_ROWS
                       else np.sort(rng.choice(n, PCA_FIT_ROWS, replace=False))])
    xy = (np.asarray(X[rows]) - fit.mean(axis=0)) @ pca_axes(fit)
    return pl.DataFrame({
        "row": rows.astype(np.int64),
        "x": xy[:, 0].astype(np.float32),
        "y": xy[:, 1].astype(np.float32),
        "picked": chosen[rows],
        "cluster": (labels[rows] if labels is not None else np.full(len(rows), -1)
                    ).astype(np.int32),
    })
