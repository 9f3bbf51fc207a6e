"""DEITA score-first selection (Liu et al., 2023, "What Makes Good Data for Alignment?").

As in the paper's ``Repr Filter``: rows are visited from the highest score down, and a row is
added only if its cosine distance to every row picked so far is above ``min_distance``
(the paper uses a similarity threshold of 0.9, i.e. ``min_distance=0.1``), until the budget is
reached. Unlike distilabel's ``DeitaFiltering``, nothing is normalised or re-weighted: the
score is used as given, and the distance test is against all picks, not a nearest neighbour
found among the whole set.

Work is blocked: each block of ``block`` candidates is compared with all picks in one matrix
product, then with the block's own earlier accepted rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..progress import bar


@dataclass
class DeitaResult:
    """``picks``: row indices in pick order (kept rows first); ``scanned``: rows visited."""

    picks: np.ndarray
    scanned: int


def score_order(scores: np.ndarray) -> np.ndarray:
    """Row indices from the highest score down; ties by row index, NaN (no score) last."""
    scores = np.asarray(scores, dtype=np.float64)
    key = np.where(np.isnan(scores), np.inf, -scores)
    return np.argsort(key, kind="stable")


def deita_select(X: np.ndarray, scores: np.ndarray, k: int, *, min_distance: float = 0.1,
                 initial=None, block: int = 1024, desc: str = "deita") -> DeitaResult:
    """Pick up to ``k`` rows of ``X`` (unit rows) by score, skipping rows within
    ``min_distance`` (cosine distance) of a pick. Fewer than ``k`` come back when the rows
    run out. ``initial`` rows are picked first and count towards ``k``."""
    n, dim = X.shape
    k = int(min(k, n))
    start = [] if initial is None else list(dict.fromkeys(int(i) for i in initial))
    picked = np.zeros((max(k, len(start)), dim), dtype=np.float32)
    picks = list(start)
    picked[:len(picks)] = X[picks]
    limit = np.float32(1.0 - min_distance)  # accept when similarity < limit
    order = score_order(scores)
    if picks:
        order = order[~np.isin(order, picks)]
    scanned = 0
    with bar(total=k, desc=desc, unit="picks") as progress:
        progress.update(len(picks))
        for pos in range(0, len(order), block):
            if len(picks) >= k:
                break
            rows = order[pos:pos + block]
            cx = X[rows]
            ok = np.ones(len(rows), dtype=bool)
            if picks:
                ok = (cx @ picked[:len(picks)].T).max(axis=1) < limit
            idx = np.flatnonzero(ok)
            sims = cx[idx] @ cx[idx].T
            accepted: list[int] = []
            for a, i in enumerate(idx):
                scanned = pos + int(i) + 1
                if accepted and sims[a, accepted].max() >= limit:
                    continue
                accepted.append(a)
                picked[len(picks)] = cx[i]
                picks.append(int(rows[i]))
                progress.update(1)
                if len(picks) >= k:
                    break
            else:
                scanned = pos + len(rows)
    return DeitaResult(np.asarray(picks, dtype=np.int64), scanned)
