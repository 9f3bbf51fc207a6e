"""Report section and card part of the convert step when it read documents (HTML, PDF,
DOCX, EPUB, ODT, web archives, text): documents read by type, pages, characters extracted,
and the files rejected with their reasons (``stats["documents"]``, see
:class:`curate.convert.documents.DocStats`)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import polars as pl

FILES_SHOWN = 20


def _documents(entry: dict[str, Any]) -> dict | None:
    stats = entry.get("stats")
    docs = stats.get("documents") if isinstance(stats, dict) else None
    return docs if isinstance(docs, dict) and docs else None


def _types(docs: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in (docs.get("by_type") or {}).items())


def section(out_dir: Path, entry: dict[str, Any]) -> str:
    docs = _documents(entry)
    if docs is None:
        return ""
    from ..io.extract import ERROR_REASONS  # startup

    rejected = docs.get("rejected_files") or {}
    parts = [f"<p>{docs.get('documents', 0)} documents read ({html.escape(_types(docs))}), "
             f"{docs.get('pages', 0)} pages, {docs.get('characters', 0)} characters "
             f"extracted; {sum(rejected.values())} files rejected"
             + (": " + html.escape(", ".join(f"{k}: {v}" for k, v in rejected.items()))
                if rejected else "") + ".</p>"]
    path = Path(out_dir) / entry.get("rejected", "")
    if rejected and entry.get("rejected") and path.is_file():
        bad = pl.read_parquet(path).filter(pl.col("drop_reason").is_in(sorted(ERROR_REASONS)))
        if bad.height:
            parts.append("<table><tr><th>file</th><th>reason</th><th>why</th></tr>")
            for row in bad.head(FILES_SHOWN).iter_rows(named=True):
                parts.append(f"<tr><td>{html.escape(str(row.get('file')))}</td>"
                             f"<td>{html.escape(str(row['drop_reason']))}</td>"
                             f"<td>{html.escape(str(row.get('detail') or ''))}</td></tr>")
            parts.append("</table>")
            if bad.height > FILES_SHOWN:
                parts.append(f"<p>and {bad.height - FILES_SHOWN} more (see "
                             f"{html.escape(entry['rejected'])}).</p>")
    return "\n".join(parts)


def card(entry: dict[str, Any]) -> str | None:
    docs = _documents(entry)
    if docs is None:
        return None
    rejected = docs.get("rejected_files") or {}
    rows = [("documents read", f"{docs.get('documents', 0)} ({_types(docs)})"),
            ("pages", docs.get("pages", 0)), ("characters extracted", docs.get("characters", 0)),
            ("files rejected", sum(rejected.values()))]
    rows += [(f"rejected: {k}", v) for k, v in rejected.items()]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    return ("## Source documents\n\nThe raw documents this dataset was made from (title, path "
            "or URL and pages of each record are in its `meta`).\n\n| | |\n|---|---|\n" + table)
