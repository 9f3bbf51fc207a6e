"""Report section of the dedup stages (``dedup.exact``, ``dedup.near``, ``dedup.semantic``):
a cluster-size histogram and example clusters, the kept record beside the removed ones."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import polars as pl

from .bars import vbars
from .data import collect, columns, scan
from .html import _text_of

EXAMPLE_CLUSTERS = 3
REMOVED_PER_CLUSTER = 3
TEXT_CHARS = 600
_STAT_KEYS = ("on", "bands", "rows", "candidates", "pairs", "groups", "clusters", "dup_clusters",
              "duplicates", "search", "precision")


def _short(text: str) -> str:
    return text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS] + " …"


def cluster_sizes(rejected: pl.DataFrame) -> pl.DataFrame:
    """``(kept_id, size)`` of each cluster (the kept record plus its removed copies), largest
    first, ties in order of appearance."""
    return (rejected.group_by("kept_id", maintain_order=True).len()
            .select("kept_id", (pl.col("len") + 1).alias("size"))
            .sort("size", descending=True, maintain_order=True))


def histogram_svg(sizes: pl.Series) -> str:
    """Bar chart: number of clusters per cluster size."""
    counts = sizes.value_counts().sort(sizes.name)
    return vbars([str(s) for s in counts[sizes.name]], counts["count"].to_list(),
                 title="Duplicate clusters by size", xlabel="cluster size (records)",
                 ylabel="clusters")


def _stats_line(stats: dict[str, Any]) -> str:
    parts = [f"{k}: {stats[k]}" for k in _STAT_KEYS if k in stats]
    return f"<p>{html.escape(', '.join(parts))}</p>" if parts else ""


def _references(rejected: pl.LazyFrame) -> str:
    """A line per reference (``against``): the records removed as copies of its records."""
    if "duplicate_of" not in columns(rejected):
        return ""
    named = collect(rejected.filter(pl.col("duplicate_of").is_not_null()).select(
        pl.col("duplicate_of").str.split_exact(":", 1).struct.field("field_0").alias("ref"))
        .group_by("ref", maintain_order=True).len())
    return "".join(f"<p>{k} records removed as copies of reference "
                   f"{html.escape(str(name))} (reason duplicate_of_reference).</p>"
                   for name, k in named.iter_rows())


def section(out_dir: Path, stage: dict[str, Any]) -> str:
    """HTML for one dedup stage entry of the manifest ("" when it removed nothing)."""
    out_dir = Path(out_dir)
    rejected = scan(out_dir, stage, "rejected")
    if rejected is None:
        return ""
    against = _references(rejected)
    rejected = rejected.filter(pl.col("kept_id").is_not_null()) \
        if "kept_id" in columns(rejected) else rejected
    n = collect(rejected.select(pl.len())).item()
    if n == 0 or "kept_id" not in columns(rejected):
        return _stats_line(stage.get("stats", {})) + against
    sizes = cluster_sizes(collect(rejected.select("kept_id")))  # one column: compact
    parts = [_stats_line(stage.get("stats", {})), against,
             f"<p>{sizes.height} clusters of duplicates, {n} records removed.</p>",
             histogram_svg(sizes["size"])]
    checkpoint = scan(out_dir, stage, "checkpoint")
    top = sizes.head(EXAMPLE_CLUSTERS)
    # only the shown clusters' rows are read, not the whole checkpoint or rejected rows
    kept = collect(checkpoint.filter(pl.col("id").is_in(top["kept_id"].implode()))) \
        if checkpoint is not None else None
    shown = collect(rejected.filter(pl.col("kept_id").is_in(top["kept_id"].implode())))
    parts.append("<table><tr><th>cluster</th><th>kept</th><th>removed</th></tr>")
    for kept_id, size in top.iter_rows():
        row = kept.filter(pl.col("id") == kept_id).row(0, named=True) \
            if kept is not None and kept_id in kept["id"] else None
        kept_text = _short(_text_of(row)) if row else "(not in the checkpoint)"
        removed = shown.filter(pl.col("kept_id") == kept_id).head(REMOVED_PER_CLUSTER)
        removed_html = "<hr>".join(
            f"<b>{html.escape(r['id'])}</b>\n{html.escape(_short(_text_of(r)))}"
            for r in removed.iter_rows(named=True))
        if size - 1 > removed.height:
            removed_html += f"<hr>… and {size - 1 - removed.height} more"
        parts.append(f"<tr><td>{html.escape(kept_id)}<br>{size} records</td>"
                     f"<td class=ex><b>{html.escape(kept_id)}</b>\n{html.escape(kept_text)}</td>"
                     f"<td class=ex>{removed_html}</td></tr>")
    parts.append("</table>")
    return "\n".join(p for p in parts if p)
