"""A stacked histogram and a scatter plot written as SVG directly (no matplotlib; see
:mod:`curate.report.bars` for why), for score columns: kept values in green, dropped in red,
thresholds as dashed lines.

    histogram(kept, dropped, title=..., xlabel=..., lines={"max 1.0": 1.0}) -> "<svg ...>"
    scatter(kept_xy, dropped_xy, title=..., xlabel=..., ylabel=..., log_x=True) -> "<svg ...>"
"""

from __future__ import annotations

import math
from html import escape

from .bars import _num, _text, nice_ticks

KEPT, DROPPED, LINE = "#2ca02c", "#d62728", "#333"
_W, _H, _LEFT, _TOP = 440.0, 160.0, 52.0, 30.0


def _frame(title: str, width: float, height: float) -> list[str]:
    return [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' "
            f"height='{height:.0f}' viewBox='0 0 {width:.0f} {height:.0f}' role='img'>",
            f"<title>{escape(title)}</title>", _text(4, 16, title, size=13)]


def _legend(x: float, entries: list[tuple[str, str]]) -> list[str]:
    out = []
    for j, (name, colour) in enumerate(entries):
        y = _TOP + 16 * j
        out.append(f"<rect x='{x:.1f}' y='{y}' width='10' height='10' fill='{colour}'/>")
        out.append(_text(x + 16, y + 9, name, size=9))
    return out


def _range(values: list[float], lines: dict[str, float]) -> tuple[float, float]:
    every = [v for v in values if math.isfinite(v)] + list(lines.values())
    lo, hi = (min(every), max(every)) if every else (0.0, 1.0)
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def histogram(kept: list[float], dropped: list[float], *, title: str, xlabel: str,
              bins: int = 30, lines: dict[str, float] | None = None) -> str:
    """Counts of ``kept`` and ``dropped`` values in ``bins`` equal bins, stacked; ``lines``
    (label -> value) are drawn as dashed vertical lines."""
    lines = lines or {}
    lo, hi = _range(kept + dropped, lines)
    step = (hi - lo) / bins

    def counts(values: list[float]) -> list[int]:
        out = [0] * bins
        for v in values:
            if math.isfinite(v):
                out[min(bins - 1, int((v - lo) / step))] += 1
        return out

    k, d = counts(kept), counts(dropped)
    ticks = nice_ticks(max((a + b for a, b in zip(k, d)), default=0))
    scale, base, bar_w = _H / ticks[-1], _TOP + _H, _W / bins
    width, height = _LEFT + _W + 150, _TOP + _H + 46
    out = _frame(title, width, height)
    for t in ticks:
        y = base - t * scale
        out.append(f"<line x1='{_LEFT - 4}' y1='{y:.1f}' x2='{_LEFT}' y2='{y:.1f}' "
                   f"stroke='{LINE}'/>")
        out.append(_text(_LEFT - 6, y + 3, _num(t), "end", size=9))
    for i, (a, b) in enumerate(zip(k, d)):
        x = _LEFT + i * bar_w
        edge = f"{lo + i * step:.3g}–{lo + (i + 1) * step:.3g}"
        for count, below, colour, name in ((a, 0, KEPT, "kept"), (b, a, DROPPED, "dropped")):
            if count:
                out.append(f"<rect x='{x + 0.5:.1f}' y='{base - (below + count) * scale:.1f}' "
                           f"width='{bar_w - 1:.1f}' height='{count * scale:.1f}' "
                           f"fill='{colour}'><title>{edge}: {count} {name}</title></rect>")
    out.append(f"<line x1='{_LEFT}' y1='{base}' x2='{_LEFT + _W}' y2='{base}' "
               f"stroke='{LINE}'/>")
    for t in _axis_ticks(lo, hi):
        x = _LEFT + (t - lo) / (hi - lo) * _W
        out.append(_text(x, base + 13, f"{t:g}", "middle", size=9))
    out += _lines(lines, lo, hi, base)
    out.append(_text(_LEFT + _W / 2, base + 30, xlabel, "middle"))
    out += _legend(_LEFT + _W + 14, [(f"kept ({len(kept)})", KEPT),
                                     (f"dropped ({len(dropped)})", DROPPED)])
    out.append("</svg>")
    return "\n".join(out)


def _axis_ticks(lo: float, hi: float) -> list[float]:
    step = nice_ticks(hi - lo)[1]
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 12) for i in range(int((hi - first) / step + 1e-9) + 1)]


def _log_ticks(lo: float, hi: float) -> list[float]:
    """1, 2 and 5 times the powers of ten between ``10**lo`` and ``10**hi`` (powers of ten
    alone where those are many)."""
    found = [m * 10 ** e for e in range(math.floor(lo), math.ceil(hi) + 1) for m in (1, 2, 5)
             if lo - 1e-9 <= math.log10(m * 10 ** e) <= hi + 1e-9]
    return found if len(found) <= 8 else [t for t in found if math.log10(t).is_integer()]


def _lines(lines: dict[str, float], lo: float, hi: float, base: float) -> list[str]:
    out = []
    for label, value in lines.items():
        x = _LEFT + (value - lo) / (hi - lo) * _W
        out.append(f"<line x1='{x:.1f}' y1='{_TOP}' x2='{x:.1f}' y2='{base}' stroke='{LINE}' "
                   "stroke-dasharray='4 3'/>")
        out.append(_text(x + 3, _TOP + 9, label, size=9))
    return out


def scatter(kept: list[tuple[float, float]], dropped: list[tuple[float, float]], *,
            title: str, xlabel: str, ylabel: str, log_x: bool = False,
            lines: dict[str, float] | None = None) -> str:
    """Points ``(x, y)``, kept in green and dropped in red; ``lines`` are horizontal (label ->
    y value); with ``log_x`` the x axis is logarithmic (x > 0)."""
    lines = lines or {}

    def fx(x: float) -> float:
        return math.log10(max(x, 1e-9)) if log_x else x

    xs = [fx(x) for x, _ in kept + dropped]
    x_lo, x_hi = _range(xs, {})
    y_lo, y_hi = _range([y for _, y in kept + dropped], lines)
    width, height = _LEFT + _W + 150, _TOP + _H + 46
    base = _TOP + _H

    def px(x: float) -> float:
        return _LEFT + (fx(x) - x_lo) / (x_hi - x_lo) * _W

    def py(y: float) -> float:
        return base - (y - y_lo) / (y_hi - y_lo) * _H

    out = _frame(title, width, height)
    out.append(f"<line x1='{_LEFT}' y1='{_TOP}' x2='{_LEFT}' y2='{base}' stroke='{LINE}'/>")
    out.append(f"<line x1='{_LEFT}' y1='{base}' x2='{_LEFT + _W}' y2='{base}' "
               f"stroke='{LINE}'/>")
    for t in _axis_ticks(y_lo, y_hi):
        out.append(_text(_LEFT - 6, py(t) + 3, f"{t:g}", "end", size=9))
    x_ticks = _log_ticks(x_lo, x_hi) if log_x else _axis_ticks(x_lo, x_hi)
    for t in x_ticks:
        out.append(_text(px(t), base + 13, _num(t), "middle", size=9))
    for label, value in lines.items():
        out.append(f"<line x1='{_LEFT}' y1='{py(value):.1f}' x2='{_LEFT + _W}' "
                   f"y2='{py(value):.1f}' stroke='{LINE}' stroke-dasharray='4 3'/>")
        out.append(_text(_LEFT + _W + 3, py(value) + 3, label, size=9))
    for points, colour in ((kept, KEPT), (dropped, DROPPED)):
        for x, y in points:
            if math.isfinite(fx(x)) and math.isfinite(y):
                out.append(f"<circle cx='{px(x):.1f}' cy='{py(y):.1f}' r='1.8' "
                           f"fill='{colour}' fill-opacity='0.6'/>")
    out.append(_text(_LEFT + _W / 2, base + 30, xlabel, "middle"))
    out.append(_text(12, _TOP + _H / 2, ylabel, "middle",
                     extra=f" transform='rotate(-90 12 {_TOP + _H / 2:.1f})'"))
    out += _legend(_LEFT + _W + 60, [(f"kept ({len(kept)})", KEPT),
                                     (f"dropped ({len(dropped)})", DROPPED)])
    out.append("</svg>")
    return "\n".join(out)
