"""HTML pages: boilerplate removed, structure kept as Markdown, bad files rejected; on pages
written in the test and on the real Maintainers' Guide pages."""

from __future__ import annotations

import re

import pytest

from curate.io.extract import read_documents

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Widget FAQ</title>
<script>var tracking = "do not keep";</script><style>body {color: red}</style></head>
<body>
<header class="site-header"><a href="/">Acme</a> <a href="/docs">Docs</a></header>
<nav><ul><li><a href="/a">Home</a></li><li><a href="/b">Products</a></li>
<li><a href="/c">Support</a></li></ul></nav>
<div id="cookie-banner">We use cookies. <button>Accept all</button></div>
<main>
<h1>Widget FAQ</h1>
<p>Everything about the <em>widget</em>, in one page.</p>
<h2>How do I install the widget?</h2>
<p>Run the installer, then check it:</p>
<pre><code># as root
widget --install
widget --check</code></pre>
<ol><li>Download it.</li><li>Run it:<ul><li>on Linux</li><li>on macOS</li></ul></li></ol>
<h2>Which sizes are there?</h2>
<table><tr><th>size</th><th>weight</th></tr><tr><td>small</td><td>1 kg</td></tr>
<tr><td>large | XL</td><td>3&nbsp;kg</td></tr></table>
<p>Use <code>widget --size</code> to pick one.<br>It is quick.</p>
<div class="related-links"><a href="/x">Related one</a><a href="/y">Related two</a></div>
</main>
<aside>Sponsored: buy a better widget</aside>
<footer>&copy; Acme 2026 <a href="/privacy">Privacy</a></footer>
</body></html>"""

EXPECTED = """# Widget FAQ

Everything about the widget, in one page.

## How do I install the widget?

Run the installer, then check it:

```
# as root
widget --install
widget --check
```

1. Download it.

2. Run it:

   - on Linux
   - on macOS

## Which sizes are there?

| size | weight |
|---|---|
| small | 1 kg |
| large \\| XL | 3 kg |

Use `widget --size` to pick one.
It is quick.
"""


def _read(tmp_path, name: str, data: bytes | str):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    [doc] = read_documents(path)
    return doc


def test_page_becomes_markdown_without_boilerplate(tmp_path):
    doc = _read(tmp_path, "faq.html", PAGE)
    assert doc.error is None
    assert doc.text == EXPECTED
    assert doc.meta == {"doc_type": "html", "path": str(tmp_path / "faq.html"),
                        "title": "Widget FAQ"}
    assert doc.markdown and doc.page_starts is None


def test_declared_charset_and_no_main_element(tmp_path):
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; '
            'charset=iso-8859-1"></head><body><div class="menu"><a href="/">Accueil</a></div>'
            '<h3>Caf\xe9 cr\xe8me</h3><p>D\xe9j\xe0 servi.</p></body></html>')
    doc = _read(tmp_path, "page.htm", page.encode("latin-1"))
    assert doc.text == "### Café crème\n\nDéjà servi.\n"
    assert doc.meta["title"] == "Café crème"            # no <title>: its first heading


@pytest.mark.parametrize("name,data,message", [
    ("photo.html", b"\x89PNG\r\n\x1a\n" + bytes(64), "not an HTML page: binary data"),
    ("report.html", b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\n", "not an HTML page: binary data"),
    ("notes.html", b"Meeting notes\n- ship the widget\n", "not an HTML page: no HTML tags at "
                                                          "its start"),
])
def test_not_html(tmp_path, name, data, message):
    doc = _read(tmp_path, name, data)
    assert (doc.error.reason, doc.error.message) == ("not_html", message)


def test_page_of_navigation_only_has_no_text(tmp_path):
    doc = _read(tmp_path, "nav.xhtml", "<html><body><nav><a href='/'>Home</a></nav>"
                                       "<footer>Contact</footer></body></html>")
    assert (doc.error.reason, doc.error.message) == (
        "no_text", "no text left in the page after removing navigation and boilerplate")


@pytest.fixture(scope="module")
def guide_pages(shared_data):
    folder = shared_data / "raw" / "maint-guide" / "html"
    return {p.name: next(read_documents(p)) for p in sorted(folder.glob("*.html"))}


def test_real_pages_keep_headings_and_drop_navigation(guide_pages, shared_data):
    first = guide_pages["first.en.html"]
    assert first.meta["title"] == "Chapter 2. First steps"
    text = first.text
    assert text.startswith("# Chapter 2. First steps\n\nThe rewrite of this tutorial")
    heads = re.findall(r"^(#+) (.*)$", text, re.M)
    assert heads[:3] == [("#", "Chapter 2. First steps"),
                         ("##", "2.1. Debian package building workflow"),
                         ("##", "2.2. Choose your program")]
    for page in guide_pages.values():            # navigation bars and tables of contents
        lines = page.text.split("\n")
        assert not {"Prev", "Next", "Home", "Up", "Table of Contents"} & set(lines)
        assert not any(re.fullmatch(r"Prev\b.*\bNext", line) for line in lines)
    assert "```\n$ cd ~/gentoo\n$ wget http://example.org/gentoo-0.9.12.tar.gz" in text
    assert "- Get a copy of the upstream software, usually in a compressed tar format." in text


def test_link_lists_within_the_site_go_references_stay(tmp_path):
    menu = "".join(f"<li><a href='/p{i}'>Page {i}</a></li>" for i in range(4))
    refs = "".join(f"<li><a href='https://other.org/r{i}'>Reference {i}</a></li>"
                   for i in range(3))
    doc = _read(tmp_path, "links.html", f"<html><body><ul>{menu}</ul><p>Read these:</p>"
                                        f"<ul>{refs}</ul></body></html>")
    assert doc.text == "Read these:\n\n- Reference 0\n- Reference 1\n- Reference 2\n"


def test_absolute_links_to_the_pages_own_site_are_navigation():
    from curate.io.extract.html import read_html

    menu = "".join(f"<li><a href='https://acme.test/p{i}'>Page {i}</a></li>" for i in range(4))
    page = f"<html><body><ul>{menu}</ul><p>Body text.</p></body></html>".encode()
    assert read_html(page, "x.html", url="https://acme.test/home")[0] == "Body text.\n"
    assert "- Page 0" in read_html(page, "x.html")[0]      # no URL: its host is unknown
