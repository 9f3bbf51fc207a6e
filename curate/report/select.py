"""Report section of the ``select.*`` stages: coverage of the sample next to a random sample of
the same size (and next to every other method with ``compare``), and a 2-D map of the
embeddings with the picks marked."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import polars as pl

from .plots import _svg

_ROWS = (("covering_radius", "covering radius (max distance to the nearest pick; lower is better)"),
         ("mean_distance", "mean distance to the nearest pick"),
         ("clusters_covered", "k-means clusters with a pick"))


def coverage_table(coverage: dict[str, Any]) -> str:
    sample, rand = coverage.get("sample", {}), coverage.get("random", {})
    out = ["<table><tr><th>cosine distance / clusters</th><th>sample</th>"
           "<th>random sample, same size</th></tr>"]
    for key, label in _ROWS:
        if key not in sample:
            continue
        a, b = sample.get(key), rand.get(key)
        if key == "clusters_covered":
            a, b = f"{a} of {sample.get('clusters')}", f"{b} of {rand.get('clusters')}"
        out.append(f"<tr><td>{html.escape(label)}</td><td class=num>{a}</td>"
                   f"<td class=num>{b}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def methods_table(method: str, coverage: dict[str, Any]) -> str:
    """Each method's coverage at the same budget (``compare``), this run's method first."""
    rows = [(f"{method} (this sample)", coverage.get("sample", {})),
            ("random", coverage.get("random", {})),
            *sorted(coverage.get("methods", {}).items())]
    out = ["<p>Every method at the same budget (<code>compare</code>):</p>",
           "<table><tr><th>method</th><th>covering radius</th><th>mean distance</th>"
           "<th>clusters with a pick</th></tr>"]
    for name, cov in rows:
        clusters = (f"{cov.get('clusters_covered')} of {cov.get('clusters')}"
                    if "clusters_covered" in cov else "")
        out.append(f"<tr><td>{html.escape(str(name))}</td>"
                   f"<td class=num>{cov.get('covering_radius')}</td>"
                   f"<td class=num>{cov.get('mean_distance')}</td>"
                   f"<td class=num>{clusters}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def map_svg(points: pl.DataFrame, title: str = "Embeddings (PCA), picks marked") -> str:
    """Scatter of ``x``, ``y``: every row in grey, the picks in red."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 5))
    rest = points.filter(~pl.col("picked"))
    picks = points.filter(pl.col("picked"))
    ax.scatter(rest["x"], rest["y"], s=4, c="#bbbbbb", linewidths=0,
               label=f"not selected ({rest.height} shown)")
    ax.scatter(picks["x"], picks["y"], s=14, c="#d62728", marker="x", linewidths=0.8,
               label=f"selected ({picks.height} shown)")
    ax.set_title(title, loc="left")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    svg = _svg(fig)
    plt.close(fig)
    return svg


def section(out_dir: Path, stage: dict[str, Any]) -> str:
    stats = stage.get("stats") or {}
    parts = []
    if stats.get("budget") is not None:
        emb = stats.get("embedding", {})
        path = f" ({emb['precision']})" if emb.get("precision") else ""
        parts.append(f"<p>Method <b>{html.escape(str(stats.get('method')))}</b>: "
                     f"{stats.get('selected')} of {stage.get('rows_in')} rows selected "
                     f"(budget {stats.get('budget')}), embeddings of the "
                     f"{html.escape(str(emb.get('on')))} by "
                     f"{html.escape(str(emb.get('model')))}{html.escape(path)}.</p>")
    if stats.get("coverage"):
        parts.append(coverage_table(stats["coverage"]))
        if stats["coverage"].get("methods"):
            parts.append(methods_table(str(stats.get("method")), stats["coverage"]))
    path = Path(out_dir) / stats["map"] if stats.get("map") else None
    if path is not None and path.is_file():
        parts.append(map_svg(pl.read_parquet(path)))
    return "\n".join(parts)
