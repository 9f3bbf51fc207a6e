"""Budgets (a count or a fraction) and integer quotas that add up exactly.

:func:`allocate` splits a total over groups in proportion to weights, within per-group floors
and caps, and rounds by largest remainder so that the parts always sum to the total. Strata
(``stratify_column``) and cluster quotas (``per_cluster``) are both built on it.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import CurateError

PER_CLUSTER = ("uniform", "proportional", "sqrt")


def resolve_budget(n_rows: int, n: int | float) -> int:
    """The number of rows to select: ``n`` as a count (int >= 1), or as a fraction of the rows
    (float in (0, 1], rounded to the nearest count); never more than ``n_rows``."""
    problem = budget_problem(n)
    if problem is not None:
        raise CurateError(f"budget n: {problem}")
    if isinstance(n, float):
        return min(n_rows, int(math.floor(n * n_rows + 0.5)))
    return min(n_rows, int(n))


def budget_problem(n: object) -> str | None:
    """What is wrong with a budget (a count >= 1 or a fraction in (0, 1]), or None."""
    if isinstance(n, bool) or not isinstance(n, (int, float)):
        return f"must be a count (1000) or a fraction (0.1), not {n!r}"
    if isinstance(n, float) and not 0 < n <= 1:
        return f"a fraction must be in (0, 1], not {n!r}; give a count as a whole number"
    if isinstance(n, int) and n < 1:
        return f"a count must be at least 1, not {n!r}"
    return None


def allocate(total: int, weights, caps, floors=None) -> np.ndarray:
    """Integers ``a`` with ``sum(a) == total`` and ``floors <= a <= caps``, as close as possible
    to ``lam * weights`` (one ``lam`` for all groups): water-filling, then largest remainder
    (ties to the lower group index).

    Raises CurateError when the floors exceed the total or the caps cannot reach it.
    """
    w = np.asarray(weights, dtype=np.float64)
    caps = np.asarray(caps, dtype=np.int64)
    floors = np.zeros_like(caps) if floors is None else np.asarray(floors, dtype=np.int64)
    if floors.sum() > total:
        raise CurateError(f"{int(floors.sum())} rows must be kept but the budget is {total}")
    if caps.sum() < total:
        raise CurateError(f"cannot place {total} rows in groups of {int(caps.sum())} rows")
    if total == 0 or len(w) == 0:
        return floors.copy()

    def filled(lam: float) -> np.ndarray:
        return np.clip(lam * w, floors, caps)

    lo, hi = 0.0, 1.0
    while filled(hi).sum() < total and hi < 1e300:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if filled(mid).sum() < total:
            lo = mid
        else:
            hi = mid
    x = filled(hi)
    out = np.maximum(np.floor(x + 1e-9).astype(np.int64), floors)
    out = np.minimum(out, caps)
    short = total - int(out.sum())
    frac = x - out
    while short > 0:  # largest remainder first, among groups below their cap
        room = out < caps
        order = np.lexsort((np.arange(len(out)), -np.where(room, frac, -np.inf)))
        take = order[:short][room[order[:short]]]
        out[take] += 1
        frac[take] = -np.inf
        short = total - int(out.sum())
    while short < 0:  # only from float noise: take back from the smallest remainders
        room = out > floors
        order = np.lexsort((-np.arange(len(out)), np.where(room, frac, np.inf)))
        take = order[:-short][room[order[:-short]]]
        out[take] -= 1
        short = total - int(out.sum())
    return out


def cluster_weights(sizes, mode: str) -> np.ndarray:
    """Quota weights of clusters of the given sizes: equal (``uniform``), the size
    (``proportional``) or its square root (``sqrt``)."""
    sizes = np.asarray(sizes, dtype=np.float64)
    if mode == "uniform":
        return (sizes > 0).astype(np.float64)
    if mode == "proportional":
        return sizes
    if mode == "sqrt":
        return np.sqrt(sizes)
    raise CurateError(f"per_cluster must be one of {', '.join(PER_CLUSTER)}, got {mode!r}")


def quotas(total: int, sizes, *, mode: str = "proportional", floors=None) -> np.ndarray:
    """Per-group counts summing to ``total``: weights from ``mode``, capped by group sizes."""
    sizes = np.asarray(sizes, dtype=np.int64)
    return allocate(total, cluster_weights(sizes, mode), sizes, floors)


def interleave(parts: list[np.ndarray]) -> np.ndarray:
    """Merge per-group rankings into one so that every prefix keeps the groups' shares: the
    i-th of a group's m picks is placed at ``(i + 0.5) / m``, ties to the lower group."""
    parts = [np.asarray(p, dtype=np.int64) for p in parts]
    if not sum(len(p) for p in parts):
        return np.zeros(0, dtype=np.int64)
    flat = np.concatenate(parts)
    pos = np.concatenate([(np.arange(len(p)) + 0.5) / max(len(p), 1) for p in parts])
    grp = np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)])
    return flat[np.lexsort((grp, pos))]
