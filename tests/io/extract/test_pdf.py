"""PDF reading: a manual written in the test (running headers, page numbers, hyphenation,
lists, code, a footnote, a paragraph across pages), bad PDFs, and the real Maintainers' Guide."""

from __future__ import annotations

import re

import pytest

from curate.io.extract import pages_of, read_documents

from .documents import encrypted_pdf, scanned_pdf, text_pdf

HEADER, PAGES = "Acme Widget Manual", 5


def _page(n: int, lines: list[tuple]) -> list[tuple]:
    return [(72, 40, 9, HEADER), *lines, (280, 760, 9, f"Page {n} of {PAGES}")]


MANUAL = [
    _page(1, [(72, 110, 18, "1 Installing the widget"),
              (72, 140, 11, "The widget is a well-known tool that every team uses. Its instal-"),
              (72, 154, 11, "lation takes a minute on a well-"),
              (72, 168, 11, "known system."),
              (72, 196, 11, "\u2022 Download the archive."),
              (72, 216, 11, "\u2022 Run the installer."),
              (72, 244, 10, "$ widget --install --prefix /opt", "mono"),
              (72, 256, 10, "$ widget --check", "mono"),
              (72, 284, 11, "The next page goes on with this para-"),
              (72, 700, 7, "1 A footnote about the widget.")]),
    _page(2, [(72, 110, 11, "graph about configuration."),
              (72, 150, 18, "2 Configuring the widget"),
              (72, 180, 11, "Edit the file widget.conf and set the colour.")]),
    *[_page(n, [(72, 110, 18, f"{n} Chapter number {n}"),
                (72, 140, 11, f"Text of chapter {n} is short.")]) for n in (3, 4, 5)],
]


@pytest.fixture
def manual(tmp_path):
    path = tmp_path / "manual.pdf"
    path.write_bytes(text_pdf(MANUAL, title=HEADER))
    [doc] = read_documents(path)
    return doc


def test_running_headers_page_numbers_and_hyphenation(manual):
    assert manual.error is None
    text = manual.text
    assert HEADER not in text and not re.search(r"Page \d of 5", text)
    assert "Its installation takes a minute on a well-known system." in text
    assert "instal-" not in text and "\ufffe" not in text
    assert "The next page goes on with this paragraph about configuration." in text


def test_structure_headings_lists_code_footnotes(manual):
    text = manual.text
    blocks = text.split("\n\n")
    assert blocks[0] == "# 1 Installing the widget"
    assert "- Download the archive.\n\n- Run the installer." in text
    assert "```\n$ widget --install --prefix /opt\n$ widget --check\n```" in text
    assert blocks.index("[1] A footnote about the widget.") == blocks.index(
        "# 2 Configuring the widget") - 1          # at the end of its section
    assert [b for b in blocks if b.startswith("#")] == [
        "# 1 Installing the widget", "# 2 Configuring the widget", "# 3 Chapter number 3",
        "# 4 Chapter number 4", "# 5 Chapter number 5"]


def test_meta_and_pages(manual):
    assert manual.meta == {"doc_type": "pdf", "path": manual.file, "page_count": 5,
                           "title": HEADER}
    text = manual.text
    second = text.index("# 2 Configuring")
    assert pages_of(manual, second, text.index("# 3 Chapter")) == [2]
    assert pages_of(manual, text.index("The next page"), second) == [1, 2]
    assert pages_of(manual, text.index("# 5 Chapter"), len(text)) == [5]


def test_encrypted_pdf_is_rejected(tmp_path):
    path = tmp_path / "locked.pdf"
    path.write_bytes(encrypted_pdf(text_pdf(MANUAL)))
    [doc] = read_documents(path)
    assert (doc.error.reason, doc.error.message) == (
        "encrypted", "the PDF is encrypted: it needs a password to be opened")
    assert doc.text == ""


def test_scanned_pdf_is_named_as_such(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_pdf(pages=2))
    [doc] = read_documents(path)
    assert doc.error.reason == "no_text"
    assert doc.error.message == ("a scanned PDF: 2 of its 2 pages are images without a text "
                                 "layer; run OCR on it first (e.g. ocrmypdf)")


def test_not_a_pdf(tmp_path):
    path = tmp_path / "notes.pdf"
    path.write_text("just some notes, saved with the wrong name\n")
    [doc] = read_documents(path)
    assert doc.error.reason == "unreadable_pdf"
    assert doc.error.message.startswith("not a readable PDF file: ")


@pytest.fixture(scope="module")
def guide(shared_data):
    [doc] = read_documents(shared_data / "raw" / "maint-guide" / "maint-guide.en.pdf")
    return doc


def test_real_pdf_has_no_running_lines_or_broken_words(guide, shared_data):
    text = guide.text
    assert guide.meta["page_count"] == 63 and guide.meta["title"] == "Debian New Maintainers' Guide"
    assert not re.search(r"Maintainers. Guide (\d+ / 57|[ivx]+)\s*$", text, re.M)
    assert "\ufffe" not in text and "devel opment" not in text
    assert "Before you start anything, you should make sure that you have properly installed " \
           "some additional packages needed for development." in text
    heads = re.findall(r"^#+ (.*)$", text, re.M)
    assert "Chapter 1 Getting started The Right Way" in heads
    assert "1.4 Where to ask for help" in heads
    assert len(heads) >= 90


def test_real_pdf_pages_of_a_section(guide):
    text = guide.text
    start = text.index("### 1.4 Where to ask for help")
    end = text.index("# Chapter 2 First steps")
    assert pages_of(guide, start, end) == [10, 11]
