"""convert() on folders of raw documents (HTML, PDF, DOCX, Markdown, web archives): records
with their provenance in meta, bad files as rejected rows with reasons, the document counts."""

from __future__ import annotations

import json

import pytest

from curate.convert import convert

from ..io.extract.documents import docx, encrypted_pdf, scanned_pdf, text_pdf, write_warc

FAQ_HTML = ("<html><head><title>Widget FAQ</title></head><body><nav><a href='/'>Home</a> "
            "<a href='/a'>A</a> <a href='/b'>B</a></nav><h1>Widget FAQ</h1>"
            "<h2>How do I install the widget?</h2><p>Run the installer as root.</p>"
            "<h2>Colours</h2><p>Red and blue.</p></body></html>")


def _pdf_pages() -> list[list[tuple]]:
    pages = []
    for n in range(1, 5):
        pages.append([(72, 40, 9, "Widget Handbook"),
                      (72, 110, 18, f"Why does part {n} matter?"),
                      (72, 140, 11, f"Part {n} matters because the widget needs every part to "
                                    f"work, and part {n} holds the others together."),
                      (300, 760, 9, str(n))])
    return pages


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "faq.html").write_text(FAQ_HTML, encoding="utf-8")
    (d / "handbook.pdf").write_bytes(text_pdf(_pdf_pages(), title="Widget Handbook"))
    (d / "guide.docx").write_bytes(docx([("Heading1", "What is a widget?"),
                                         ("", "A small tool for big jobs.")]))
    (d / "notes.md").write_text("# Why notes?\n\nTo remember.\n", encoding="utf-8")
    (d / "locked.pdf").write_bytes(encrypted_pdf(text_pdf(_pdf_pages())))
    (d / "scan.pdf").write_bytes(scanned_pdf())
    (d / "logo.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    return d


def _meta(df, source: str) -> list[dict]:
    return [json.loads(m) for s, m in zip(df["source"], df["meta"]) if s == source]


def test_docs_format_mixed_folder(folder):
    res = convert(folder, format="docs")        # on_error "raise": bad files do not stop it
    questions = sorted(m[0]["content"] for m in res.frame["messages"])
    assert questions == sorted(["How do I install the widget?", "What is a widget?",
                                "Why notes?"] + [f"Why does part {n} matter?" for n in range(1, 5)])
    bad = {(f.rsplit("/", 1)[1], r) for f, r in zip(res.rejected["file"],
                                                    res.rejected["drop_reason"])}
    assert {b for b in bad if b[1] != "not_a_question"} == {
        ("locked.pdf", "encrypted"), ("scan.pdf", "no_text"), ("logo.html", "not_html")}
    assert ("faq.html", "not_a_question") in bad           # "Colours" and "Widget FAQ"
    pdf = _meta(res.frame, "handbook.pdf")
    assert [m["pages"] for m in pdf] == [[1], [2], [3], [4]]
    assert pdf[0]["title"] == "Widget Handbook" and pdf[0]["doc_type"] == "pdf"
    assert pdf[0]["path"] == str(folder / "handbook.pdf")
    faq = _meta(res.frame, "faq.html")
    assert faq[0]["title"] == "Widget FAQ" and "pages" not in faq[0]
    assert _meta(res.frame, "notes.md") == [{"file": "notes.md", "line": 1, "format": "docs",
                                             "section": [], "heading": "# Why notes?"}]
    assert res.documents == {"documents": 4, "pages": 5, "characters": res.documents[
        "characters"], "by_type": {"docx": 1, "html": 1, "pdf": 1, "text": 1},
        "rejected_files": {"encrypted": 1, "no_text": 1, "not_html": 1}}
    assert res.documents["characters"] > 400
    assert res.rows_in == res.frame.height + res.rejected.height


def test_passages_carry_pages_and_title(folder):
    res = convert(folder, format="passages")
    pdf = _meta(res.frame, "handbook.pdf")
    assert [m["pages"] for m in pdf] == [[1], [2], [3], [4]]
    assert all(m["section"] == [f"Why does part {n} matter?"] for n, m in enumerate(pdf, 1))
    texts = [p[0]["content"] for p, s in zip(res.frame["prompt"], res.frame["source"])
             if s == "handbook.pdf"]
    assert texts[0] == ("Part 1 matters because the widget needs every part to work, and part "
                        "1 holds the others together.")
    assert not any("Widget Handbook" in t for t in texts)   # the running header is gone


def test_web_archive_pages_have_their_url_as_source(tmp_path):
    path = write_warc(tmp_path / "crawl.warc.gz", [
        ("https://example.org/faq", "text/html", FAQ_HTML.encode(), "200 OK"),
        ("https://example.org/style.css", "text/css", b"body {}", "200 OK")])
    res = convert(path, format="docs")
    assert res.frame["source"].to_list() == ["https://example.org/faq"]
    meta = json.loads(res.frame["meta"][0])
    assert {k: meta[k] for k in ("url", "record", "doc_type", "title", "file")} == {
        "url": "https://example.org/faq", "record": 2, "doc_type": "warc",
        "title": "Widget FAQ", "file": "crawl.warc.gz"}
    assert res.documents["by_type"] == {"warc": 1} and res.documents["pages"] == 1
