"""The per-input funnel of a run with named inputs (report.html): per stage and input, rows in
and out and drop reasons, from the stages' ``datasets`` counts (see :mod:`curate.accounting`)."""

from __future__ import annotations

import html
from typing import Any

from ..funnel import DATASETS, TOKENS, input_totals


def section(manifest: dict[str, Any], stages: list[dict[str, Any]]) -> str:
    totals = input_totals({**manifest, "stages": stages})
    if not totals:
        return ""
    tokens = any(TOKENS in t for t in totals)
    out = ["<h2>Inputs</h2>", "<table><tr><th>input</th><th>licence</th><th>rows read</th>"
           "<th>records out</th>" + ("<th>tokens out</th>" if tokens else "")
           + "<th>dropped</th></tr>"]
    for t in totals:
        dropped = "<br>".join(f"{html.escape(k)}: {v}" for k, v in t["dropped"].items())
        made = f" ({t['added']} copies)" if t.get("added") else ""
        out.append(f"<tr><td>{html.escape(t['name'])}</td>"
                   f"<td>{html.escape(str(t.get('license') or ''))}</td>"
                   f"<td class=num>{t['rows_in']}</td><td class=num>{t['rows_out']}{made}</td>"
                   + (f"<td class=num>{t.get(TOKENS, '')}</td>" if tokens else "")
                   + f"<td>{dropped}</td></tr>")
    out.append("</table>")
    names = [t["name"] for t in totals]
    out.append("<table><tr><th>stage</th>" + "".join(f"<th>{html.escape(n)}</th>"
                                                     for n in names) + "</tr>")
    for s in stages:
        per = s.get(DATASETS) or {}
        cells = []
        for n in names:
            d = per.get(n)
            if d is None:
                cells.append("<td></td>")
                continue
            why = ", ".join(f"{html.escape(k)}: {v}" for k, v in d["dropped"].items())
            made = f" +{d['added']}" if d.get("added") else ""
            cells.append(f"<td class=num>{d['rows_in']} → {d['rows_out']}{made}"
                         + (f"<br><small>{why}</small>" if why else "") + "</td>")
        out.append(f"<tr><td>{html.escape(s['name'])}</td>{''.join(cells)}</tr>")
    out.append("</table>")
    return "\n".join(out)
