"""Report section of the ``generate.*`` stages: the model, backend and template, the requests
and tokens (with the cache's share), failures by reason, and examples: passage -> questions ->
answers, prompt -> candidates, instruction -> evolved instruction."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import polars as pl

from ..records import parse_meta
from .data import collect, columns, heads, scan

EXAMPLES = 3
_SHORT = 600


def _short(text: str | None) -> str:
    text = text or ""
    return html.escape(text if len(text) <= _SHORT else text[:_SHORT] + " …")


def _usage(stats: dict[str, Any], dropped: dict[str, int]) -> str:
    tokens = stats.get("prompt_tokens", 0) + stats.get("completion_tokens", 0)
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(dropped.items())) or "none"
    return (f"<p>Model <b>{html.escape(str(stats.get('model')))}</b> on the "
            f"<b>{html.escape(str(stats.get('backend')))}</b> backend, template "
            f"<b>{html.escape(str(stats.get('template_version')))}</b>. "
            f"{stats.get('rows_generated', 0)} records generated, "
            f"{stats.get('passed_through', 0)} rows of other kinds passed through.</p>"
            f"<table><tr><th>requests sent</th><th>from the cache</th><th>retries</th>"
            f"<th>failed requests</th><th>prompt tokens</th><th>completion tokens</th></tr>"
            f"<tr><td class=num>{stats.get('requests', 0)}</td>"
            f"<td class=num>{stats.get('cache_hits', 0)}</td>"
            f"<td class=num>{stats.get('retries', 0)}</td>"
            f"<td class=num>{stats.get('failures', 0)}</td>"
            f"<td class=num>{stats.get('prompt_tokens', 0)}</td>"
            f"<td class=num>{stats.get('completion_tokens', 0)}</td></tr></table>"
            f"<p>{tokens} tokens sent and received. Rows rejected by reason: {reasons}.</p>")


def _example(row: dict, task: str) -> tuple[str, str]:
    meta = parse_meta(row.get("meta"))
    if task == "questions":
        where = f"{meta.get('file', '')} [{meta.get('start')}:{meta.get('end')}]"
        left = f"<b>{html.escape(where)}</b>\n{_short(meta.get('passage'))}"
        right = "\n".join(f"<b>{m['role']}:</b> {_short(m['content'])}"
                          for m in row["messages"] or [])
        return left, right
    if task == "evolve":
        return (f"<b>parent {html.escape(str(meta.get('parent')))}</b> "
                f"({html.escape(str(meta.get('evolution')))})",
                _short((row.get("prompt") or [{}])[-1].get("content")))
    turns = row["messages"] or []
    left = "\n".join(f"<b>{m['role']}:</b> {_short(m['content'])}" for m in turns[:-1])
    candidates = row.get("candidates") or [turns[-1]["content"]] if turns else []
    right = "<hr>".join(_short(c) for c in candidates)
    return left, right


def _rejected(out_dir: Path, stage: dict[str, Any]) -> str:
    lf = scan(out_dir, stage, "rejected")
    if lf is None or "generation_error" not in columns(lf):
        return ""
    firsts = dict(heads(lf.select("drop_reason", "generation_error"), "drop_reason", 2))
    if not firsts:
        return ""
    out = ["<table><tr><th>reason</th><th>error (first rows)</th></tr>"]
    for reason in sorted(firsts):
        errors = firsts[reason]["generation_error"]
        out.append(f"<tr><td>{html.escape(reason)}</td><td class=ex>"
                   + "<hr>".join(_short(e) for e in errors.to_list()) + "</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def section(out_dir: Path, stage: dict[str, Any]) -> str:
    """HTML for one ``generate.*`` stage entry of the manifest."""
    out_dir = Path(out_dir)
    task = str(stage.get("use", "")).rsplit(".", 1)[-1]
    parts = [_usage(stage.get("stats", {}), stage.get("dropped", {}))]
    kept = scan(out_dir, stage, "checkpoint")
    if kept is not None:
        generated = kept.filter(pl.col("meta").str.contains('"generation"'))
        titles = {"questions": ("passage", "questions and answers"),
                  "evolve": ("from", "evolved instruction")}.get(task, ("prompt", "candidates"))
        rows = collect(generated.head(EXAMPLES)).to_dicts()
        if rows:
            parts.append(f"<table><tr><th>{titles[0]}</th><th>{titles[1]}</th></tr>")
            for row in rows:
                left, right = _example(row, task)
                parts.append(f"<tr><td class=ex>{left}</td><td class=ex>{right}</td></tr>")
            parts.append("</table>")
    parts.append(_rejected(out_dir, stage))
    return "\n".join(p for p in parts if p)


def card(stage: dict[str, Any]) -> str | None:
    """The card's part: which model, backend and template wrote the records."""
    st = stage.get("stats")
    if not isinstance(st, dict) or not st.get("template_version"):
        return None
    return ("## Generation\n\nRecords written by an LLM (each row's provenance is in "
            f"`meta.generation`):\n\n- {stage.get('name', '?')}: model `{st.get('model')}`, "
            f"backend {st.get('backend')}, template {st['template_version']}")
