"""Report section of the ``safety.*`` stages: which scorer ran, score histograms (kept vs
dropped), and the bias audit of the run: per identity group its share of its category in
and out, its removal ratio, flagged groups first, and removed records of the flagged groups."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from ..safety import scorers
from .data import collect, columns, scan
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
        lf = scan(out_dir, stage, key)
        if lf is not None and column in columns(lf):  # one score column: compact
            out.append(collect(lf.select(column))[column].drop_nulls().to_list())
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
    """Per group (flagged ones first, in red): share of its category in the input and in the
    output, and its removal ratio (its removed rate over the run's) against ``disparity_max``."""
    plt = _plt()
    groups = audit["groups"]
    keys = list(groups)
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.3 * len(keys) + 1.4), sharey=True)
    y = list(range(len(keys)))[::-1]
    ax = axes[0]
    ax.barh([v + 0.2 for v in y], [groups[k]["share_in"] or 0 for k in keys], height=0.4,
            color="#9467bd", label="input")
    ax.barh([v - 0.2 for v in y], [groups[k]["share_out"] or 0 for k in keys], height=0.4,
            color="#2ca02c", label="output")
    ax.set_xlim(0, 1)
    ax.set_title("share of its category", loc="left")
    ax.legend(fontsize=8, frameon=False)
    ax = axes[1]
    ratios = [groups[k]["removal_ratio"] or 0 for k in keys]
    ax.barh(y, ratios, height=0.6,
            color=["#d62728" if groups[k]["flags"] else "#7f7f7f" for k in keys])
    ax.axvline(1.0, color="#333", linewidth=0.8)
    ax.axvline(audit["disparity_max"], color="#d62728", linewidth=0.8, linestyle="--",
               label=f"disparity_max {audit['disparity_max']}")
    ax.set_title("removal ratio (group's removed rate / run's)", loc="left")
    ax.legend(fontsize=8, frameon=False)
    for a in axes:
        a.spines[["top", "right"]].set_visible(False)
    axes[0].set_yticks(y, [("⚑ " if groups[k]["flags"] else "") + k for k in keys])
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


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


def _group_table(audit: dict[str, Any]) -> str:
    rows = ["<table><tr><th>group</th><th>flags</th><th>records (in → out)</th>"
            "<th>share (in → out)</th><th>removed rate</th><th>removal ratio</th>"
            "<th>removed by</th><th>toxic rate in</th><th>identity attack rate in</th></tr>"]
    for key, g in audit["groups"].items():
        removed_by = ", ".join(f"{r}: {n}" for r, n in g["removed_by"].items())
        rows.append(f"<tr><td>{html.escape(key)}</td><td><b>{', '.join(g['flags'])}</b></td>"
                    f"<td class=num>{g['records_in']} → {g['records_out']}</td>"
                    f"<td class=num>{_fmt(g['share_in'])} → {_fmt(g['share_out'])}</td>"
                    f"<td class=num>{_fmt(g['removed_rate'])}</td>"
                    f"<td class=num>{_fmt(g['removal_ratio'])}</td>"
                    f"<td>{html.escape(removed_by)}</td>"
                    f"<td class=num>{_fmt(g['toxic_rate_in'])}</td>"
                    f"<td class=num>{_fmt(g['identity_attack_rate_in'])}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def _examples(audit: dict[str, Any]) -> str:
    """The removed records of each flagged group, to judge whether the removals were deserved."""
    rows = []
    for key, examples in audit.get("examples", {}).items():
        for ex in examples:
            rows.append(f"<tr><td>{html.escape(key)}</td><td>{html.escape(str(ex['stage']))}"
                        f"</td><td>{html.escape(ex['reason'])}</td>"
                        f"<td class=num>{_fmt(ex['toxicity'])}</td><td>{html.escape(ex['id'])}"
                        f"</td><td class=ex>{html.escape(ex['text'])}</td></tr>")
    if not rows:
        return ""
    return ("<h3>Removed records of the flagged groups</h3><table><tr><th>group</th>"
            "<th>stage</th><th>reason</th><th>toxicity</th><th>id</th><th>text</th></tr>"
            + "\n".join(rows) + "</table>")


PROFANITY_LIMITS = (
    "The toxicity scores come from <b>alt-profanity-check</b> (offline; Detoxify's weights were "
    "not available), a linear model over words: it scores swearing and insults, not hostility "
    "said in polite words (a generalisation about a group scores low, so "
    "<code>toxic_about_group</code> catches little), it has no identity-attack label, and some "
    "benign words score high out of context (a pig roast, a porcupine's prickles). Its default "
    "thresholds were set on benign corpora to keep them (benchmarks/README.md); a Detoxify "
    "checkpoint (<code>--toxicity-checkpoint</code>) judges meaning.")


def _overall(audit: dict[str, Any]) -> str:
    o = audit["overall"]
    where = ("the records as they entered the run's first stage, over every stage of the run ("
             + html.escape(", ".join(audit["stages"])) + ")" if audit["scope"] == "run"
             else "this stage's input alone")
    removed_by = ", ".join(f"{r}: {n}" for r, n in o["removed_by"].items()) or "nothing"
    flagged = audit["flagged"]
    text = (f"<p>Audit of {where} (<code>bias.json</code>): {o['records_in']} records in, "
            f"{o['records_out']} out; removed rate {_fmt(o['removed_rate'])} ({removed_by}); "
            f"toxic rate in {_fmt(o['toxic_rate_in'])} (a record is toxic above "
            f"{audit['toxic_above']}). A group is flagged <b>over_removed</b> when its removed "
            f"rate is more than {audit['disparity_max']} times the run's, and <b>often_toxic</b> "
            f"when its toxic rate in is, with at least {audit['disparity_min_records']} records "
            f"in. ")
    text += (f"Flagged: <b>{html.escape(', '.join(flagged))}</b>.</p>" if flagged
             else "No group is flagged.</p>")
    if audit["thresholds"].get("scorer") == scorers.PROFANITY:
        text += ("<p>Toxicity here is alt-profanity-check's profanity score: hostility said "
                 "in polite words is not counted (its limits are under safety.toxicity).</p>")
    return text


def section(out_dir: Path, stage: dict[str, Any]) -> str:
    use, stats = stage.get("use", ""), stage.get("stats") or {}
    if use == "safety.toxicity":
        kept, dropped = _scores(out_dir, stage, "toxicity")
        limits = (f"<p>{PROFANITY_LIMITS}</p>"
                  if (stats.get("scorer") or {}).get("scorer") == scorers.PROFANITY else "")
        return (_scorer_line(stats) + limits
                + histogram_svg(kept, dropped, title="toxicity (largest label score)"))
    if use == "safety.bias":
        path = out_dir / (stats.get("bias_json") or "")
        if not stats.get("bias_json") or not path.is_file():
            return ""
        audit = json.loads(path.read_text(encoding="utf-8"))
        parts = [_overall(audit)]
        if audit["groups"]:
            parts += [groups_svg(audit), _group_table(audit), _examples(audit)]
        kept, dropped = _scores(out_dir, stage, "identity_attack")
        if kept or dropped:
            parts.append(histogram_svg(kept, dropped, title="identity_attack"))
        return "\n".join(parts)
    return ""


def card(stage: dict[str, Any]) -> str | None:
    """The groups a run's bias audit flagged (``stats.run.flagged`` of ``safety.bias``)."""
    from ..export.card import _dropped, _table  # startup

    audit = (stage.get("stats") or {}).get("run") if isinstance(stage.get("stats"), dict) \
        else None
    if not isinstance(audit, dict) or "flagged" not in audit:
        return None
    head = (f"## Bias audit\n\nIdentity-group mentions over the whole run "
            f"(`bias.json`): {audit.get('records_in')} records in, removed rate "
            f"{audit.get('removed_rate')}. A group is flagged `over_removed` when its removed "
            f"rate is more than {audit.get('disparity_max')} times the run's, `often_toxic` "
            f"when its toxic rate in the input is.")
    flagged = audit["flagged"]
    if not flagged:
        return head + " No group was flagged."
    rows = [[k, ", ".join(g.get("flags", [])), g.get("records_in"), g.get("records_out"),
             g.get("removal_ratio"), g.get("toxic_rate_in"),
             _dropped(g.get("removed_by"))] for k, g in flagged.items()]
    return head + "\n\n" + _table(["group", "flags", "records in", "records out",
                                    "removal ratio", "toxic rate in", "removed by"], rows)
