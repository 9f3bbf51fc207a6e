"""Inter-annotator agreement and answer resolution.

``units`` is a list of units (records), each the list of the values its annotators gave (missing
answers left out). Units with fewer than two values are not pairable and do not count.

- percent agreement: the mean, over pairable units, of the share of ordered annotator pairs that
  gave the same value.
- Krippendorff's alpha: ``1 - D_o / D_e`` from the coincidence matrix, with the nominal, ordinal
  or interval difference function (Krippendorff 2011, "Computing Krippendorff's alpha-reliability").

Examples:
    >>> percent_agreement([["a", "a"], ["a", "b"], ["b", "b"]])
    0.6666666666666666
    >>> round(krippendorff_alpha([["a", "a"], ["a", "b"], ["b", "b"]], "nominal"), 4)
    0.4444
    >>> borda([[("x", 1), ("y", 2)], [("y", 1), ("x", 2)], [("x", 1), ("y", 2)]])
    ['x', 'y']
"""

from __future__ import annotations

import statistics
from collections import Counter
from itertools import product
from typing import Any, Hashable, Sequence

from ..errors import CurateError

LEVELS = ("nominal", "ordinal", "interval")


def _pairable(units: Sequence[Sequence[Any]]) -> list[list[Any]]:
    return [list(u) for u in units if len(u) >= 2]


def percent_agreement(units: Sequence[Sequence[Hashable]]) -> float | None:
    """Share of agreeing annotator pairs, averaged over units; None without a pairable unit."""
    shares = []
    for unit in _pairable(units):
        m = len(unit)
        same = sum(n * (n - 1) for n in Counter(unit).values())
        shares.append(same / (m * (m - 1)))
    return sum(shares) / len(shares) if shares else None


def _coincidences(units: list[list[Any]]) -> dict[tuple[Any, Any], float]:
    o: dict[tuple[Any, Any], float] = {}
    for unit in units:
        m = len(unit)
        counts = Counter(unit)
        for c, k in product(counts, counts):
            pairs = counts[c] * (counts[k] - (1 if c == k else 0))
            if pairs:
                o[(c, k)] = o.get((c, k), 0.0) + pairs / (m - 1)
    return o


def krippendorff_alpha(units: Sequence[Sequence[Any]], level: str = "nominal") -> float | None:
    """Krippendorff's alpha; None when it is undefined (no pairable unit, or a single value)."""
    if level not in LEVELS:
        raise CurateError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    pairable = _pairable(units)
    o = _coincidences(pairable)
    n_c: Counter = Counter()
    for (c, _), v in o.items():
        n_c[c] += v
    n = sum(n_c.values())
    values = sorted(n_c)
    if n <= 1 or len(values) < 2:
        return None

    if level == "nominal":
        def delta(c, k):
            return 0.0 if c == k else 1.0
    elif level == "interval":
        def delta(c, k):
            return (float(c) - float(k)) ** 2
    else:
        rank = {v: i for i, v in enumerate(values)}

        def delta(c, k):
            lo, hi = sorted((rank[c], rank[k]))
            s = sum(n_c[values[g]] for g in range(lo, hi + 1))
            return (s - (n_c[c] + n_c[k]) / 2) ** 2

    d_o = sum(v * delta(c, k) for (c, k), v in o.items()) / n
    d_e = sum(n_c[c] * n_c[k] * delta(c, k) for c in values for k in values) / (n * (n - 1))
    return 1.0 - d_o / d_e if d_e else None


def agreement(units: Sequence[Sequence[Any]], level: str = "nominal") -> dict[str, Any]:
    """Both measures and the counts behind them, for the manifest."""
    pairable = _pairable(units)
    return {"level": level, "units": len(pairable),
            "values": sum(len(u) for u in pairable),
            "percent_agreement": percent_agreement(pairable),
            "alpha": krippendorff_alpha(pairable, level)}


# resolution ------------------------------------------------------------------------------------

def majority(values: Sequence[Hashable]) -> Hashable | None:
    """The most frequent value; None when there is none or the top is tied."""
    top = Counter(values).most_common(2)
    if not top or (len(top) == 2 and top[0][1] == top[1][1]):
        return None
    return top[0][0]


def mean(values: Sequence[float]) -> float | None:
    return float(statistics.fmean(values)) if values else None


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def borda(rankings: Sequence[Sequence[tuple[str, int]]]) -> list[str] | None:
    """Combined ranking: an option ranked r of n gets n - r points per annotator.

    Each ranking is a list of ``(option, rank)`` with rank 1 the best. Ties in points keep the
    options in name order.
    """
    if not rankings:
        return None
    points: Counter = Counter()
    for ranking in rankings:
        n = len(ranking)
        for option, r in ranking:
            points[option] += n - int(r)
    return sorted(points, key=lambda o: (-points[o], o))
