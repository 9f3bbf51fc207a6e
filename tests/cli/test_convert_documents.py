"""`curate convert --format docs` on a folder of HTML pages and PDFs (good and bad), then
`curate export`: records, rejected files with their reasons, the report and the card."""

from __future__ import annotations

import json

import polars as pl
import pytest
from click.testing import CliRunner

from curate.cli import cli

from ..io.extract.documents import encrypted_pdf, scanned_pdf, text_pdf

FAQ = ("<html><head><title>Kettle FAQ</title></head><body><div class='navbar'><a href='/'>"
       "Home</a> <a href='/s'>Shop</a> <a href='/c'>Contact</a></div><main>"
       "<h2>How do I descale the kettle?</h2><p>Boil water with a spoon of citric acid, then "
       "rinse twice.</p><h2>Why does it click?</h2><p>The thermostat switches off at the "
       "boil.</p></main></body></html>")
PAGES = [[(72, 40, 9, "Kettle Manual"), (72, 110, 18, f"What does step {n} do?"),
          (72, 140, 11, f"Step {n} fills, heats or pours the water, one after the other."),
          (300, 760, 9, f"{n}")] for n in range(1, 5)]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def converted(tmp_path):
    d = tmp_path / "raw"
    d.mkdir()
    (d / "faq.html").write_text(FAQ, encoding="utf-8")
    (d / "manual.pdf").write_bytes(text_pdf(PAGES, title="Kettle Manual"))
    (d / "secret.pdf").write_bytes(encrypted_pdf(text_pdf(PAGES)))
    (d / "scanned.pdf").write_bytes(scanned_pdf())
    (d / "image.html").write_bytes(b"GIF89a" + bytes(30))
    out = tmp_path / "run"
    result = invoke("convert", d, "-o", out, "--format", "docs")
    assert result.exit_code == 0, result.output
    return d, out, result.stdout


def test_records_and_rejected_files(converted):
    d, out, stdout = converted
    assert stdout.splitlines()[:2] == [
        "00_convert                     9 -> 6       dropped encrypted: 1, no_text: 1, "
        "not_html: 1", f"wrote {out}/data.parquet: 6 of 9 rows kept"]
    assert f"  {d / 'manual.pdf'}: docs" in stdout
    data = pl.read_parquet(out / "data.parquet")
    assert sorted(m[0]["content"] for m in data["messages"]) == [
        "How do I descale the kettle?", "What does step 1 do?", "What does step 2 do?",
        "What does step 3 do?", "What does step 4 do?", "Why does it click?"]
    pages = [json.loads(m).get("pages") for m in data["meta"]]
    assert sorted(p for p in pages if p) == [[1], [2], [3], [4]]
    rejected = pl.read_parquet(out / "rejected" / "00_convert.parquet")
    got = sorted((f.rsplit("/", 1)[1], r) for f, r in zip(rejected["file"],
                                                          rejected["drop_reason"]))
    assert got == [("image.html", "not_html"), ("scanned.pdf", "no_text"),
                   ("secret.pdf", "encrypted")]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"][0]["dropped"] == {"encrypted": 1, "no_text": 1, "not_html": 1}
    report = (out / "report.html").read_text()
    assert "a scanned PDF: 2 of its 2 pages are images without a text layer" in report


def test_report_and_card_count_documents(converted, tmp_path):
    _, out, _ = converted
    report = (out / "report.html").read_text()
    assert ("2 documents read (html: 1, pdf: 1), 5 pages, " in report
            and "3 files rejected: encrypted: 1, no_text: 1, not_html: 1." in report)
    exported = tmp_path / "export"
    assert invoke("export", out, "-o", exported, "--target", "trl-sft").exit_code == 0
    card = (exported / "README.md").read_text()
    assert "## Source documents" in card and "| documents read | 2 (html: 1, pdf: 1) |" in card
