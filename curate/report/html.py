"""Renders report.html from the manifest and the run's rejected rows."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

from .data import columns, heads, scan
from .inputs import section as inputs_section
from .plots import funnel_svg
from .sections import shown_text, view_module

EXAMPLES_PER_REASON = 3
_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f4f4f4}.num{text-align:right}
.ex{font-family:monospace;font-size:12px;white-space:pre-wrap;max-width:700px;
overflow-wrap:anywhere}
"""


def _text_of(row: dict[str, Any]) -> str:
    """A short human view of a (rejected) row."""
    if row.get("raw") is not None and row.get("messages") is None and row.get("prompt") is None:
        return str(row["raw"])
    turns = row.get("messages") or (row.get("prompt") or []) + (row.get("chosen") or [])
    return "\n".join(f"{t['role']}: {t['content']}" for t in turns)


def _examples(out_dir: Path, stage: dict[str, Any]) -> list[tuple[str, str, str]]:
    lf = scan(out_dir, stage, "rejected")
    if lf is None or "drop_reason" not in columns(lf):
        return []
    rows = []
    for reason, group in heads(lf, "drop_reason", EXAMPLES_PER_REASON):
        for row in group.iter_rows(named=True):
            where = row.get("id") or f"{row.get('file')}:{row.get('line')}"
            extra = f"duplicate of {row['kept_id']}" if row.get("kept_id") else (row.get("detail") or "")
            text = shown_text(stage, _text_of(row))
            text = text if len(text) <= 400 else text[:400] + " …"
            rows.append((str(reason), f"{where} {extra}".strip(), text))
    return rows


def _stage_table(stages: list[dict[str, Any]]) -> str:
    out = ["<table><tr><th>#</th><th>stage</th><th>in</th><th>kept</th><th>dropped</th>"
           "<th>seconds</th><th>options</th></tr>"]
    for s in stages:
        dropped = "<br>".join(f"{html.escape(k)}: {v}" for k, v in s.get("dropped", {}).items())
        made = f" ({s['added']} made)" if s.get("added") else ""
        opts = html.escape(json.dumps(s.get("thresholds", s.get("stats", {})), default=str))
        out.append(f"<tr><td>{s['index']:02d}</td><td>{html.escape(s['name'])}</td>"
                   f"<td class=num>{s.get('rows_in', '')}</td>"
                   f"<td class=num>{s.get('rows_out', '')}{made}</td><td>{dropped}</td>"
                   f"<td class=num>{s.get('seconds', '')}</td><td class=ex>{opts}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def _stage_sections(out_dir: Path, stages: list[dict[str, Any]]) -> list[str]:
    """The sections the stages declare (see :mod:`curate.report.sections`)."""
    parts = []
    for stage in stages:
        module = view_module(stage)
        section = module.section(out_dir, stage) if module is not None else ""
        if section:
            parts.append(f"<h2>{html.escape(stage['name'])}</h2>\n{section}")
    return parts


def render_report(out_dir: Path, manifest: dict[str, Any]) -> str:
    stages = [s for s in manifest.get("stages", []) if s.get("status") == "done"]
    parts = [f"<!doctype html><html><head><meta charset=utf-8>"
             f"<title>curate report: {html.escape(manifest.get('name', ''))}</title>"
             f"<style>{_CSS}</style></head><body>",
             f"<h1>curate run: {html.escape(manifest.get('name', ''))}</h1>",
             f"<p>Status <b>{html.escape(str(manifest.get('status')))}</b>: "
             f"{manifest.get('rows_in')} input rows, {manifest.get('rows_out')} records kept, "
             f"{manifest.get('seconds', '?')} s. Seed {manifest.get('seed')}.</p>"]
    if stages:
        parts += ["<h2>Funnel</h2>", funnel_svg(stages), "<h2>Stages</h2>", _stage_table(stages)]

    parts.append(inputs_section(manifest, stages))
    parts += _stage_sections(out_dir, stages)
    if manifest.get("exports"):
        parts.append("<h2>Exports</h2><table><tr><th>target</th><th>splits</th>"
                     "<th>not exported</th></tr>")
        for e in manifest["exports"]:
            counts = ", ".join(f"{k}: {v}" for k, v in e["counts"].items())
            skipped = ", ".join(f"{k}: {v}" for k, v in e.get("skipped", {}).items())
            parts.append(f"<tr><td>{html.escape(e['target'])}</td><td>{counts}</td>"
                         f"<td>{html.escape(skipped)}</td></tr>")
        parts.append("</table>")
    examples = [(s, ex) for s in stages for ex in _examples(out_dir, s)]
    if examples:
        parts.append("<h2>Removed examples</h2><table><tr><th>stage</th><th>reason</th>"
                     "<th>row</th><th>text</th></tr>")
        for s, (reason, where, text) in examples:
            parts.append(f"<tr><td>{html.escape(s['name'])}</td><td>{html.escape(reason)}</td>"
                         f"<td>{html.escape(where)}</td><td class=ex>{html.escape(text)}</td></tr>")
        parts.append("</table>")
    versions = ", ".join(f"{k} {v}" for k, v in manifest.get("versions", {}).items())
    parts.append(f"<h2>Versions</h2><p>{html.escape(versions)}</p></body></html>")
    return "\n".join(parts)


def write_report(out_dir: Path, manifest: dict[str, Any]) -> Path:
    path = Path(out_dir) / "report.html"
    tmp = path.with_suffix(".html.tmp")  # never half a report, also when interrupted
    tmp.write_text(render_report(Path(out_dir), manifest), encoding="utf-8")
    os.replace(tmp, path)
    return path
