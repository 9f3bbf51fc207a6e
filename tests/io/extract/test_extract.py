"""The readers' entry point: file types, the missing extra, pages of a span, and the folder
reader that mixes text files and extracted ones."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from curate.cli import cli
from curate.errors import CurateError
from curate.io import Document, iter_documents
from curate.io.extract import doc_type, pages_of, read_documents


def test_doc_types():
    assert [doc_type(n) for n in ("a.HTML", "b.htm", "c.xhtml", "d.pdf", "e.docx", "f.epub",
                                  "g.odt", "h.warc", "i.warc.gz", "j.json.gz", "k.txt")] == [
        "html", "html", "html", "pdf", "docx", "epub", "odt", "warc", "warc", None, None]


def test_missing_extra_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pypdfium2", None)      # as if it were not installed
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / "a.pdf"
    path.write_bytes(b"%PDF-1.4\n")
    with pytest.raises(CurateError) as err:
        list(read_documents(path))
    assert str(err.value) == (f"{path}: reading PDF files needs the 'docs' extra (pypdfium2 "
                              "is not installed): pip install 'curate[docs]'")
    result = CliRunner().invoke(cli, ["convert", str(path.parent), "-o", str(tmp_path / "out"),
                                      "--format", "docs"])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path}: reading PDF files needs the 'docs' extra " \
        "(pypdfium2 is not installed): pip install 'curate[docs]'\n"


def test_pages_of():
    doc = Document("x.pdf", "a" * 30, page_starts=[0, 10, 10, 20])   # page 3 has no text
    assert pages_of(doc, 0, 10) == [1]
    assert pages_of(doc, 5, 15) == [1, 2, 3]
    assert pages_of(doc, 25, 30) == [4]
    assert pages_of(Document("x.html", "abc"), 0, 3) is None


def test_folder_of_text_and_html(tmp_path):
    (tmp_path / "a.md").write_text("# Why?\n\nBecause.\n", encoding="utf-8")
    (tmp_path / "b.html").write_text("<html><body><h1>Why not?</h1><p>No.</p></body></html>",
                                     encoding="utf-8")
    docs = list(iter_documents(tmp_path))
    assert [(d.text, d.markdown, d.meta.get("doc_type")) for d in docs] == [
        ("# Why?\n\nBecause.\n", False, None), ("# Why not?\n\nNo.\n", True, "html")]
