"""DOCX, EPUB and ODT files written in the test, read as Markdown; encrypted and broken
files rejected with their reason."""

from __future__ import annotations

from curate.io.extract import read_documents

from .documents import _OLE_ENCRYPTED, docx, epub, odt


def _read(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    [doc] = read_documents(path)
    return doc


def test_docx_headings_lists_tables(tmp_path):
    doc = _read(tmp_path, "guide.docx", docx([
        ("Heading1", "Widget guide"), ("", "The widget needs power."),
        ("Heading2", "How do I clean it?"), ("", "Wipe it with a cloth."),
        ("ListBullet", "Unplug it first."), ("table", "part|price;lid|3 EUR")],
        title="The widget guide"))
    assert doc.error is None
    assert doc.text == ("# Widget guide\n\nThe widget needs power.\n\n## How do I clean it?\n\n"
                        "Wipe it with a cloth.\n\n- Unplug it first.\n\n| part | price |\n"
                        "|---|---|\n| lid | 3 EUR |\n")
    assert doc.meta == {"doc_type": "docx", "path": str(tmp_path / "guide.docx"),
                        "title": "The widget guide"}


def test_epub_spine_in_order_without_its_navigation(tmp_path):
    doc = _read(tmp_path, "book.epub", epub(
        ["<h1>Part one</h1><p>It begins.</p>", "<h1>Part two</h1><pre>code here</pre>"],
        title="A small book"))
    assert doc.text == "# Part one\n\nIt begins.\n\n# Part two\n\n```\ncode here\n```\n"
    assert doc.meta["title"] == "A small book"


def test_odt_outline_levels_lists_tables(tmp_path):
    doc = _read(tmp_path, "notes.odt", odt(
        '<text:h text:outline-level="1">Notes</text:h><text:p>First<text:s text:c="2"/>'
        'line.</text:p><text:h text:outline-level="2">Why keep notes?</text:h><text:list>'
        "<text:list-item><text:p>To remember.</text:p></text:list-item></text:list>"
        "<table:table><table:table-row><table:table-cell><text:p>a</text:p></table:table-cell>"
        "<table:table-cell><text:p>b</text:p></table:table-cell></table:table-row>"
        "</table:table>", title="My notes"))
    assert doc.text == ("# Notes\n\nFirst line.\n\n## Why keep notes?\n\n- To remember.\n\n"
                        "| a | b |\n|---|---|\n")
    assert doc.meta["title"] == "My notes"


def test_encrypted_and_broken_office_files(tmp_path):
    locked = _read(tmp_path, "locked.docx", _OLE_ENCRYPTED)
    assert (locked.error.reason, locked.error.message) == (
        "encrypted", "the DOCX file is encrypted: it needs a password to be opened")
    broken = _read(tmp_path, "broken.docx", b"PK\x03\x04 not really a zip")
    assert broken.error.reason == "unreadable_docx"
    assert broken.error.message.startswith("not a DOCX file: ")
    empty = _read(tmp_path, "empty.epub", epub([], title="Nothing"))
    assert (empty.error.reason, empty.error.message) == ("no_text", "the EPUB file has no text")
