"""HTML pages (``.html``, ``.htm``, ``.xhtml``) as Markdown documents, with lxml.

Boilerplate goes before rendering: scripts and styles; ``nav``, ``aside``, page ``header`` and
``footer`` elements; elements whose role is navigation, banner, search, contentinfo or
complementary; hidden elements; elements whose class or id names navigation, menus,
breadcrumbs, sidebars, footers, cookie or consent banners, sharing or related-links boxes; and
blocks that are nothing but a list of links (menus, tables of contents). The main content is
``<main>`` (or ``role=main``, or the one ``<article>``) where the page has one, else the body.
What is left is rendered by :mod:`curate.io.extract.markdown`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from ...errors import RowError
from .markdown import tag_of, text_of, to_markdown

_BOILER_TAGS = {"nav", "aside", "script", "style", "noscript", "template", "form", "dialog"}
_BOILER_ROLES = {"navigation", "banner", "search", "contentinfo", "complementary", "menu",
                 "menubar", "dialog", "alertdialog"}
_BOILER_NAME = re.compile(
    r"(?:^|[-_\s])(?:nav|navbar|navheader|navfooter|navigation|topnav|sidenav|subnav|menu|"
    r"menubar|breadcrumbs?|sidebar|side-bar|footer|site-header|masthead|cookies?|cookie-?banner|"
    r"consent|gdpr|banner|skip-?link|share|sharing|social|related|advert|advertisement|ads|"
    r"promo|pagination|pager|newsletter|popup|modal|toc|table-of-contents)(?:$|[-_\s])", re.I)
_LISTS = {"ul", "ol", "dl", "table", "menu"}
_INLINE_NAV = {"a", "span", "br", "img", "b", "strong", "i", "em", "small", "li"}
_EXTERNAL = re.compile(r"\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)   # http://..., //host/...
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_NOT_HTML_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b",
                   b"\xd0\xcf\x11\xe0", b"BZh", b"\x7fELF", b"RIFF", b"OggS", b"ID3")
_TAG = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|title|meta|div|p|h[1-6]|table|ul|"
                  rb"article|section|span|a|br|pre|\?xml)[\s>/]", re.I)


def read_html(data: bytes, file: str, *, url: str | None = None,
              encoding: str | None = None) -> tuple[str, dict]:
    """``(markdown, meta)`` of an HTML page; ``meta`` has its ``title`` (and ``url``). Raises
    RowError ``not_html`` for a file that is not HTML and ``no_text`` for a page without main
    text. ``encoding``: the charset a server declared, else the page's own or UTF-8."""
    root = parse_html(data, file, encoding)
    meta: dict = {}
    title = page_title(root)
    if title:
        meta["title"] = title
    if url:
        meta["url"] = url
    text = to_markdown(main_content(root, url))
    if not text.strip():
        raise RowError("no_text", "no text left in the page after removing navigation and "
                       "boilerplate")
    if "title" not in meta:                  # else its first heading
        first = re.search(r"^#{1,6} (.+)$", text, re.M)
        if first:
            meta["title"] = first.group(1).strip()
    return text, meta


def parse_html(data: bytes, file: str, encoding: str | None = None):
    """The page's element tree; RowError ``not_html`` when the bytes are not an HTML page."""
    from lxml import etree  # optional

    head = data[:4096].lstrip()
    if head.startswith(_NOT_HTML_MAGIC) or b"\x00" in data[:4096] or not _TAG.search(head):
        raise RowError("not_html", "not an HTML page: "
                       + ("binary data" if not head or b"\x00" in data[:4096]
                          or head.startswith(_NOT_HTML_MAGIC) else "no HTML tags at its start"))
    try:
        parser = etree.HTMLParser(encoding=encoding, remove_comments=True, remove_pis=True)
        root = etree.fromstring(data, parser=parser)
    except (etree.LxmlError, ValueError, LookupError) as exc:   # LookupError: bad charset
        raise RowError("not_html", f"not a readable HTML page: {exc}") from None
    if root is None:
        raise RowError("not_html", "not a readable HTML page: nothing could be parsed")
    return root


def page_title(root) -> str | None:
    for path in ("//title", "//meta[@property='og:title']/@content", "//h1"):
        found = root.xpath(path)
        if found:
            value = found[0] if isinstance(found[0], str) else text_of(found[0])
            value = " ".join(value.split())
            if value:
                return value
    return None


def main_content(root, url: str | None = None):
    """The element that holds the page's main content, with its boilerplate removed; ``url``:
    the page's, whose host's links count as links within the site."""
    body = root.find("body")
    if body is None:
        body = root
    mains = body.xpath(".//main | .//*[@role='main']")
    articles = body.xpath(".//article")
    content = mains[0] if mains else articles[0] if len(articles) == 1 else body
    host = urlsplit(url).netloc.lower() if url else ""
    _prune(content, content, host)
    return content


def _boilerplate(el, top, host: str) -> bool:
    tag = tag_of(el)
    if not tag or tag in _BOILER_TAGS:               # comments, processing instructions
        return True
    attrib = el.attrib
    if attrib:
        get = attrib.get
        if get("hidden") is not None or get("aria-hidden") == "true":
            return True
        style, role = get("style"), get("role")
        if (style and _HIDDEN_STYLE.search(style)) or (role and role.lower() in _BOILER_ROLES):
            return True
        names = f"{get('class') or ''} {get('id') or ''}"
        if names != " " and _boiler_names(names) and not el.xpath(".//h1"):
            return True
    if tag in ("header", "footer") and not _inside_article(el, top) and not el.xpath(".//h1"):
        return True
    if tag in _LISTS or (tag in ("div", "p", "span") and len(el) >= 3
                         and all(tag_of(c) in _INLINE_NAV for c in el)):
        return _link_list(el, host)
    return False


@lru_cache(maxsize=4096)
def _boiler_names(names: str) -> bool:
    return bool(_BOILER_NAME.search(names))


def _inside_article(el, top) -> bool:
    p = el.getparent()
    while p is not None and p is not top:
        if tag_of(p) in ("article", "main", "section"):
            return True
        p = p.getparent()
    return top is not None and tag_of(top) in ("article", "main")


def _link_list(el, host: str) -> bool:
    """A block that is only links within the site (a menu, a table of contents): 3+ links,
    most of them relative or to an anchor, holding at least 90% of its text, with a few
    words per link. A list of links to other sites (references, further reading) is kept."""
    links = el.xpath(".//a[@href]")
    if len(links) < 3:
        return False
    external = sum(_external(a.get("href", ""), host) for a in links)
    if external > len(links) / 2:
        return False
    words = text_of(el).split()
    chars = sum(len(w) for w in words)
    linked = sum(len(w) for a in links for w in text_of(a).split())
    return chars > 0 and linked >= 0.9 * chars and len(words) / len(links) <= 12 \
        and not el.xpath(".//pre")


def _external(href: str, host: str) -> bool:
    if not _EXTERNAL.match(href):
        return False
    return not host or urlsplit(href.strip()).netloc.lower() != host


def _prune(el, top, host: str) -> None:
    for child in list(el):
        if _boilerplate(child, top, host):
            _drop(child)
        else:
            _prune(child, top, host)


def _drop(el) -> None:
    """Remove ``el`` but keep its tail text."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    prev = el.getprevious()
    if tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)
