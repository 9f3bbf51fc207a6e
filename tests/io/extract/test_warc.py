"""Web archives: each HTML response a document with its URL; other records skipped; a body
that is not HTML rejected. The archive is written in the test with warcio, from the real
Maintainers' Guide pages where ../shared exists and from pages written here."""

from __future__ import annotations

from curate.io.extract import read_documents
from curate.io.extract.html import read_html

from .documents import write_warc

PAGE = (b"<html><head><title>Tea</title></head><body><nav><a href='/'>Home</a> "
        b"<a href='/x'>X</a> <a href='/y'>Y</a></nav><h1>Why is tea green?</h1>"
        b"<p>Because the leaves are not oxidised.</p></body></html>")


def test_pages_urls_and_rejections(tmp_path):
    path = write_warc(tmp_path / "crawl.warc.gz", [
        ("https://example.org/tea", "text/html; charset=utf-8", PAGE, "200 OK"),
        ("https://example.org/logo.png", "image/png", b"\x89PNG\r\n\x1a\n", "200 OK"),
        ("https://example.org/gone", "text/html", b"<html><body>Not found</body></html>",
         "404 Not Found"),
        ("https://example.org/fake", "text/html", b"\x89PNG\r\n\x1a\n" + bytes(32), "200 OK"),
        ("https://example.org/caf%C3%A9", "text/html; charset=iso-8859-1",
         "<html><body><p>Un caf\xe9 cr\xe8me.</p></body></html>".encode("latin-1"), "200 OK"),
    ])
    docs = list(read_documents(path))
    assert [(d.line, d.meta["url"], d.error.reason if d.error else None) for d in docs] == [
        (2, "https://example.org/tea", None),
        (8, "https://example.org/fake", "not_html"),
        (10, "https://example.org/caf%C3%A9", None)]
    tea = docs[0]
    assert tea.text == "# Why is tea green?\n\nBecause the leaves are not oxidised.\n"
    assert {k: v for k, v in tea.meta.items() if k != "date"} == {
        "doc_type": "warc", "path": str(path), "url": "https://example.org/tea", "title": "Tea"}
    assert docs[1].error.message == "https://example.org/fake: not an HTML page: binary data"
    assert docs[2].text == "Un café crème.\n"


def test_damaged_archive_ends_with_a_rejection(tmp_path):
    good = write_warc(tmp_path / "ok.warc", [("https://example.org/tea", "text/html", PAGE,
                                               "200 OK")])
    bad = tmp_path / "cut.warc"
    bad.write_bytes(good.read_bytes() + b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 9999"
                    b"9\r\n\r\ntruncated")
    docs = list(read_documents(bad))
    assert docs[0].error is None and docs[0].meta["url"] == "https://example.org/tea"
    assert [d.error.reason for d in docs[1:]] == ["unreadable_warc"]


def test_archive_of_the_real_pages(tmp_path, shared_data):
    folder = shared_data / "raw" / "maint-guide" / "html"
    pages = sorted(folder.glob("*.html"))
    path = write_warc(tmp_path / "guide.warc.gz", [
        (f"https://www.debian.org/doc/manuals/maint-guide/{p.name}", "text/html; charset=UTF-8",
         p.read_bytes(), "200 OK") for p in pages])
    docs = list(read_documents(path))
    assert [d.meta["url"].rsplit("/", 1)[1] for d in docs] == [p.name for p in pages]
    direct = [read_html(p.read_bytes(), p.name, url=d.meta["url"])[0]
              for p, d in zip(pages, docs)]
    assert [d.text for d in docs] == direct              # as the file read at its URL
    first = next(d for d in docs if d.meta["url"].endswith("/first.en.html"))
    assert first.meta["title"] == "Chapter 2. First steps" and first.line == 12
