"""Bar charts written as SVG directly, for the charts every report has (the funnel) and the
dedup sections: matplotlib's import and rendering cost about a second, which a command such as
``curate dedup`` would otherwise pay on every run. The other charts use matplotlib
(:mod:`curate.report.plots`).

    stacked_hbars(rows, title=..., xlabel=...) -> "<svg ...>"   one row of segments per label
    vbars(labels, values, title=..., xlabel=..., ylabel=...) -> "<svg ...>"
"""

from __future__ import annotations

import math
from html import escape

FONT = "font-family='system-ui,sans-serif' fill='#222'"
CHAR_W = 6.2  # an 11 px sans-serif character's width, near enough to lay out labels


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """0, a round step (1, 2 or 5 times a power of ten), ... up to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [round(i * step, 12) for i in range(int(math.ceil(top / step - 1e-9)) + 1)]


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2g}"


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 11,
          extra: str = "") -> str:
    return (f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}' font-size='{size}' "
            f"{FONT}{extra}>{escape(text)}</text>")


def stacked_hbars(rows: list[tuple[str, list[tuple[float, str, str]]]], *, title: str,
                  xlabel: str, value_labels: bool = True) -> str:
    """Horizontal bars, one per ``(label, [(value, colour, legend), ...])`` row, top to
    bottom, segments left to right; the first segment's value is written after it; a legend
    of every legend name right of the chart."""
    legend: dict[str, str] = {}
    for _, segments in rows:
        for value, colour, name in segments:
            legend.setdefault(name, colour)
    left = 12 + CHAR_W * max((len(label) for label, _ in rows), default=0)
    width, row_h, top = 420.0, 26.0, 34.0
    ticks = nice_ticks(max((sum(v for v, _, _ in s) for _, s in rows), default=0))
    scale = width / ticks[-1]
    legend_x = left + width + 60
    height = max(top + row_h * len(rows), top + 16 * len(legend)) + 42
    total_w = legend_x + 16 + CHAR_W * max((len(n) for n in legend), default=0) + 10
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{total_w:.0f}' "
           f"height='{height:.0f}' viewBox='0 0 {total_w:.0f} {height:.0f}' role='img'>",
           f"<title>{escape(title)}</title>", _text(4, 16, title, size=13)]
    for i, (label, segments) in enumerate(rows):
        y = top + i * row_h
        out.append(_text(left - 6, y + row_h / 2 + 4, label, "end"))
        x = left
        for value, colour, name in segments:
            w = value * scale
            if w > 0:
                out.append(f"<rect x='{x:.1f}' y='{y + 4:.1f}' width='{w:.1f}' "
                           f"height='{row_h - 8:.1f}' fill='{colour}'><title>"
                           f"{escape(name)}: {_num(value)}</title></rect>")
            x += w
        if value_labels and segments:
            kept_end = left + segments[0][0] * scale
            out.append(_text(kept_end + 3, y + row_h / 2 + 4, _num(segments[0][0]),
                             size=9))
    axis_y = top + row_h * len(rows) + 2
    out.append(f"<line x1='{left}' y1='{axis_y}' x2='{left + width}' y2='{axis_y}' "
               "stroke='#444'/>")
    for t in ticks:
        x = left + t * scale
        out.append(f"<line x1='{x:.1f}' y1='{axis_y}' x2='{x:.1f}' y2='{axis_y + 4}' "
                   "stroke='#444'/>")
        out.append(_text(x, axis_y + 15, _num(t), "middle", size=9))
    out.append(_text(left + width / 2, axis_y + 30, xlabel, "middle"))
    for j, (name, colour) in enumerate(legend.items()):
        y = top + 16 * j
        out.append(f"<rect x='{legend_x}' y='{y}' width='10' height='10' fill='{colour}'/>")
        out.append(_text(legend_x + 16, y + 9, name, size=9))
    out.append("</svg>")
    return "\n".join(out)


def vbars(labels: list[str], values: list[float], *, title: str, xlabel: str, ylabel: str,
          colour: str = "#1f77b4") -> str:
    """Vertical bars, one per label, left to right, with a value axis on the left."""
    ticks = nice_ticks(max(values, default=0))
    plot_h, top, left = 150.0, 30.0, 50.0
    slot = max(14.0, min(48.0, 440.0 / max(len(labels), 1)))
    width = slot * len(labels)
    scale = plot_h / ticks[-1]
    total_w = max(left + width + 20, 8 + 7.2 * len(title))
    height = top + plot_h + 44
    base = top + plot_h
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{total_w:.0f}' "
           f"height='{height:.0f}' viewBox='0 0 {total_w:.0f} {height:.0f}' role='img'>",
           f"<title>{escape(title)}</title>", _text(4, 16, title, size=13)]
    for t in ticks:
        y = base - t * scale
        out.append(f"<line x1='{left - 4}' y1='{y:.1f}' x2='{left}' y2='{y:.1f}' "
                   "stroke='#444'/>")
        out.append(_text(left - 6, y + 3, _num(t), "end", size=9))
    out.append(f"<line x1='{left}' y1='{top}' x2='{left}' y2='{base}' stroke='#444'/>")
    out.append(f"<line x1='{left}' y1='{base}' x2='{left + width}' y2='{base}' "
               "stroke='#444'/>")
    for i, (label, value) in enumerate(zip(labels, values)):
        x, h = left + i * slot, value * scale
        out.append(f"<rect x='{x + slot * 0.1:.1f}' y='{base - h:.1f}' width='{slot * 0.8:.1f}'"
                   f" height='{h:.1f}' fill='{colour}'><title>{escape(label)}: {_num(value)}"
                   "</title></rect>")
        out.append(_text(x + slot / 2, base + 13, label, "middle", size=9))
    out.append(_text(left + width / 2, base + 30, xlabel, "middle"))
    out.append(_text(12, top + plot_h / 2, ylabel, "middle",
                     extra=f" transform='rotate(-90 12 {top + plot_h / 2:.1f})'"))
    out.append("</svg>")
    return "\n".join(out)
