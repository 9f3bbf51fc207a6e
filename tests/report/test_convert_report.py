"""The convert step's report section and card part when it read documents: documents by
type, pages, characters, and the rejected files with their reasons."""

from __future__ import annotations

from curate.convert import convert
from curate.report.sections import card_parts, view_module

from ..io.extract.documents import scanned_pdf, text_pdf

PAGES = [[(72, 100, 18, f"Why does step {n} matter?"), (72, 130, 11, f"Step {n} text.")]
         for n in range(1, 4)]


def test_section_and_card(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.pdf").write_bytes(text_pdf(PAGES))
    (raw / "b.pdf").write_bytes(scanned_pdf())
    (raw / "c.html").write_text("<p>How?</p>" * 3)
    res = convert(raw, format="docs")
    (tmp_path / "rejected").mkdir()
    res.rejected.write_parquet(tmp_path / "rejected" / "00_convert.parquet")
    entry = {"index": 0, "name": "convert", "use": "convert", "status": "done",
             "stats": {"formats": res.formats, "documents": res.documents},
             "rejected": "rejected/00_convert.parquet"}
    chars = res.documents["characters"]
    html = view_module(entry).section(tmp_path, entry)
    assert html.startswith(f"<p>2 documents read (html: 1, pdf: 1), 4 pages, {chars} "
                           "characters extracted; 1 files rejected: no_text: 1.</p>")
    assert (f"<tr><td>{raw / 'b.pdf'}</td><td>no_text</td><td>a scanned PDF: 2 of its 2 pages "
            "are images without a text layer; run OCR on it first (e.g. ocrmypdf)</td></tr>"
            in html)
    [card] = card_parts([entry])
    assert card.startswith("## Source documents\n\n")
    assert card.endswith("| documents read | 2 (html: 1, pdf: 1) |\n| pages | 4 |\n"
                         f"| characters extracted | {chars} |\n| files rejected | 1 |\n"
                         "| rejected: no_text | 1 |")


def test_nothing_without_documents(tmp_path):
    entry = {"index": 0, "name": "convert", "use": "convert", "stats": {"formats": {}}}
    assert view_module(entry).section(tmp_path, entry) == ""
    assert card_parts([entry]) == []
