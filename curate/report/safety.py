"""Report section of the ``safety.*`` stages: which scorer ran, score histograms (kept vs
dropped), and per identity group the share and toxic rate before and after the stage."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import polars as pl

from .plots import _svg

_BINS = 20


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _scores(out_dir: Path, stage: dict[str, Any], column: str) -> tuple[list, list]:
    """Scores of the kept and of the dropped rows (from the stage's checkpoint and rejected)."""
    out = []
    for key in ("checkpoint", "rejected"):
        path = out_dir / stage.get(key, "")
        if stage.get(key) and path.is_file() and column in pl.read_parquet_schema(path):
            out.append(pl.read_parquet(path, columns=[column])[column].drop_nulls().to_list())
        else:
            out.append([])
    return out[0], out[1]


def histogram_svg(kept: list[float], dropped: list[float], *, title: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 2.6))
    bins = [i / _BINS for i in range(_BINS + 1)]
    ax.hist([kept, dropped], bins=bins, stacked=True, color=["#2ca02c", "#d62728"],
            label=[f"kept ({len(kept)})", f"dropped ({len(dropped)})"])
    ax.set_yscale("log")
    ax.set_xlabel("score")
    ax.set_ylabel("records")
    ax.set_title(title, loc="left")
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    svg = _svg(fig)
    plt.close(fig)
    return svg


def groups_svg(audit: dict[str, Any]) -> str:
    """Per group: share of its category and toxic rate, before and after the stage."""
    plt = _plt()
    keys = list(audit["groups"])
    before, after = audit["groups"], audit["kept"]["groups"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.35 * len(keys) + 1.4), sharey=True)
    y = list(range(len(keys)))[::-1]
    for ax, metric, title in ((axes[0], "share", "share of its category"),
                              (axes[1], "toxic_rate", "toxic rate")):
        b = [before[k][metric] or 0 for k in keys]
        a = [after[k][metric] or 0 for k in keys]
        ax.barh([v + 0.2 for v in y], b, height=0.4, color="#9467bd", label="input")
        ax.barh([v - 0.2 for v in y], a, height=0.4, color="#2ca02c", label="kept")
        ax.set_xlim(0, 1)
        ax.set_title(title, loc="left")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_yticks(y, keys)
    axes[1].legend(fontsize=8, frameon=False)
    svg = _svg(fig)
    plt.close(fig)
    return svg


def _scorer_line(stats: dict[str, Any]) -> str:
    s = stats.get("scorer") or {}
    if not s:
        return ""
    text = f"Scorer: <b>{html.escape(str(s.get('scorer')))}</b> {html.escape(str(s.get('version')))}"
    text += f", model {html.escape(str(s.get('model')))}"
    if s.get("checkpoint"):
        text += f" ({html.escape(s['checkpoint'])})"
    if s.get("labels"):
        text += f"; labels {html.escape(', '.join(s['labels']))}"
    text += f"; {stats.get('texts_scored', 0)} texts scored in this run."
    if s.get("fallback_reason"):
        text += f"<br>Detoxify did not run: {html.escape(s['fallback_reason'])}"
    return f"<p>{text}</p>"


def _group_table(audit: dict[str, Any]) -> str:
    rows = ["<table><tr><th>group</th><th>records (in / kept)</th><th>share</th>"
            "<th>toxic rate</th><th>mean toxicity</th><th>identity attack rate</th></tr>"]

    def pair(key, metric):
        b, a = audit["groups"][key][metric], audit["kept"]["groups"][key][metric]
        fmt = (lambda v: "–" if v is None else f"{v:.3g}")
        return f"{fmt(b)} → {fmt(a)}"

    for key in audit["groups"]:
        rows.append(f"<tr><td>{html.escape(key)}</td><td class=num>{pair(key, 'records')}</td>"
                    f"<td class=num>{pair(key, 'share')}</td>"
                    f"<td class=num>{pair(key, 'toxic_rate')}</td>"
                    f"<td class=num>{pair(key, 'mean_toxicity')}</td>"
                    f"<td class=num>{pair(key, 'identity_attack_rate')}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def section(out_dir: Path, stage: dict[str, Any]) -> str:
    use, stats = stage.get("use", ""), stage.get("stats") or {}
    if use == "safety.toxicity":
        kept, dropped = _scores(out_dir, stage, "toxicity")
        return (_scorer_line(stats)
                + histogram_svg(kept, dropped, title="toxicity (largest label score)"))
    if use == "safety.bias":
        path = out_dir / (stats.get("bias_json") or "")
        if not stats.get("bias_json") or not path.is_file():
            return ""
        audit = json.loads(path.read_text(encoding="utf-8"))
        parts = [f"<p>{audit['records']} records in, {audit['kept']['records']} kept; "
                 f"{sum(g['records'] for g in audit['groups'].values())} group mentions "
                 f"in {len(audit['groups'])} groups (<code>bias.json</code>). A record is "
                 f"toxic above {audit['toxic_above']}.</p>"]
        if audit["groups"]:
            parts += [groups_svg(audit), _group_table(audit)]
        kept, dropped = _scores(out_dir, stage, "identity_attack")
        if kept or dropped:
            parts.append(histogram_svg(kept, dropped, title="identity_attack"))
        return "\n".join(parts)
    return ""
