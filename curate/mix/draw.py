"""Drawing a mixture: per-input quotas over compact arrays (one number per row).

    draw = draw_mixture(groups, weights, quotas, order=order, repeat=False)
    draw.times        # per row: 0 not drawn, 1 drawn, k drawn with k - 1 copies
    draw.per_input    # name -> {"quota", "target", "available", "drawn", "copies", "units"}

``groups`` names each row's input; ``weights`` is what a row counts towards its input's quota
(1 per record, or its tokens); ``order`` ranks the rows (lower first: a random permutation or
the negated score), ties by position. Each input's rows are taken in that order until the
quota is met: with records exactly; with tokens the shortest prefix whose tokens reach the
quota, so an input ends at most one record (the last one taken) over its quota, and under it
only when its rows run out. A quota is a count (an int: records or tokens) or a share (a
float: of that input's own rows or tokens). With ``repeat`` an input whose rows run out is
taken again from the start, in the same order (each copy counted); without it, it is taken
whole. Inputs without a quota are kept whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Quota = int | float


@dataclass
class Draw:
    times: np.ndarray                                  # int64 per row
    per_input: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def copies(self) -> int:
        return int(np.maximum(self.times - 1, 0).sum())


def quota_problem(value: Any, *, repeat: bool) -> str | None:
    """Why ``value`` is not a quota, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"a quota is a count (an int) or a share (a float), not {value!r}"
    if value < 0 or (isinstance(value, float) and not math.isfinite(value)):
        return f"a quota is 0 or more, not {value!r}"
    if isinstance(value, float) and value > 1 and not repeat:
        return f"a share above 1 ({value}) takes rows more than once: set repeat: true"
    return None


def target_of(quota: Quota, available: float) -> float:
    """The units a quota asks of an input that has ``available`` units."""
    if isinstance(quota, float):
        return quota * available
    return float(quota)


def draw_mixture(groups: list[str | None] | np.ndarray, weights: np.ndarray,
                 quotas: dict[str, Quota], *, order: np.ndarray, repeat: bool = False,
                 unit: str = "records") -> Draw:
    """See the module doc."""
    groups = np.asarray(groups, dtype=object)
    weights = np.asarray(weights, dtype=np.int64)
    n = len(groups)
    times = np.ones(n, dtype=np.int64)
    out = Draw(times)
    for name, quota in quotas.items():
        rows = np.flatnonzero(groups == name)
        rows = rows[np.lexsort((rows, order[rows]))]  # by order, then position
        w = weights[rows]
        available = int(w.sum())
        target = target_of(quota, available)
        if unit == "records":
            target = math.floor(target + 0.5)  # a share of records rounds to a whole record
        taken = _take(w, target, repeat)
        times[rows] = taken
        units = int((taken * w).sum())
        out.per_input[name] = {
            "quota": quota, "target": target if unit == "tokens" else int(target),
            "available": available, "rows": int(len(rows)),
            "drawn": int((taken > 0).sum()), "copies": int(np.maximum(taken - 1, 0).sum()),
            "units": units}
    return out


def _take(w: np.ndarray, target: float, repeat: bool) -> np.ndarray:
    """How many times each row (in draw order, weights ``w``) is taken to reach ``target``."""
    taken = np.zeros(len(w), dtype=np.int64)
    total = int(w.sum())
    if target <= 0 or len(w) == 0:
        return taken
    if total <= 0 or (total < target and not repeat):
        taken[:] = 1  # all it has (rows of no tokens count nothing: all of them)
        return taken
    passes = int(target // total) if repeat else 0
    rest = target - passes * total
    if passes and rest == 0:  # whole passes meet it exactly
        taken[:] = passes
        return taken
    taken[:] = passes
    cum = np.cumsum(w)
    # the shortest prefix whose units reach the rest (rows of 0 units before it come along)
    stop = int(np.searchsorted(cum, rest, side="left")) + 1
    taken[:min(stop, len(w))] += 1
    return taken
