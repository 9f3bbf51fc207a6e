"""Office documents and e-books as Markdown: DOCX (through mammoth, BSD-2-Clause, which maps
Word's heading styles, lists and tables to HTML), EPUB and ODT (zip files of XML, read with the
standard library and lxml). All end in :mod:`curate.io.extract.markdown`.

Rejected files: ``encrypted`` (a password-protected Office file is an OLE container holding an
``EncryptionInfo`` stream), ``unreadable_docx`` / ``unreadable_epub`` / ``unreadable_odt``
(not a zip of the expected parts), ``no_text``.
"""

from __future__ import annotations

import io
import posixpath
import zipfile

from ...errors import RowError
from .html import main_content
from .markdown import text_of, to_markdown

# Word's built-in styles that mammoth leaves as plain paragraphs (lists made with numbering
# definitions, the usual kind, it maps itself)
_STYLE_MAP = """
p[style-name='Title'] => h1:fresh
p[style-name='Subtitle'] => h2:fresh
p[style-name='List Bullet'] => ul > li:fresh
p[style-name='List Bullet 2'] => ul > li > ul > li:fresh
p[style-name='List Number'] => ol > li:fresh
p[style-name='Code'] => pre:separator('\\n')
p[style-name='Source Code'] => pre:separator('\\n')
p[style-name='Quote'] => blockquote > p:fresh
"""
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DC = "{http://purl.org/dc/elements/1.1/}"


def _open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    if data.startswith(_OLE):
        if "EncryptionInfo".encode("utf-16-le") in data[:1 << 20] or b"EncryptedPackage" in data:
            raise RowError("encrypted", f"the {kind.upper()} file is encrypted: it needs a "
                           "password to be opened")
        raise RowError(f"unreadable_{kind}", f"not a {kind.upper()} file: an OLE container "
                       "(an old binary Office format?)")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise RowError(f"unreadable_{kind}", f"not a {kind.upper()} file: {exc}") from None


def _html_tree(html: str | bytes):
    from lxml import etree  # optional

    return etree.fromstring(html, etree.HTMLParser(remove_comments=True, remove_pis=True))


def _finish(text: str, meta: dict, kind: str) -> tuple[str, dict]:
    if not text.strip():
        raise RowError("no_text", f"the {kind.upper()} file has no text")
    if "title" not in meta:
        first = next((ln for ln in text.split("\n") if ln.startswith("# ")), None)
        if first:
            meta["title"] = first[2:].strip()
    return text, meta


def read_docx(data: bytes, file: str) -> tuple[str, dict]:
    """``(markdown, meta)`` of a Word document."""
    import mammoth  # optional

    with _open_zip(data, "docx") as z:
        if "word/document.xml" not in z.namelist():
            raise RowError("unreadable_docx", "not a DOCX file: no word/document.xml in it")
        meta = _core_title(z, "docProps/core.xml")
    try:
        html = mammoth.convert_to_html(io.BytesIO(data), style_map=_STYLE_MAP).value
    except Exception as exc:  # mammoth raises what its XML and zip readers raise
        raise RowError("unreadable_docx", f"not a readable DOCX file: {exc}") from None
    text = to_markdown(_html_tree(f"<html><body>{html}</body></html>")) if html.strip() else ""
    return _finish(text, meta, "docx")


def _core_title(z: zipfile.ZipFile, name: str) -> dict:
    from lxml import etree  # optional

    try:
        root = etree.fromstring(z.read(name))
    except (KeyError, etree.XMLSyntaxError):
        return {}
    title = root.find(f".//{_DC}title")
    value = " ".join((title.text or "").split()) if title is not None else ""
    return {"title": value} if value else {}


def read_epub(data: bytes, file: str) -> tuple[str, dict]:
    """``(markdown, meta)`` of an EPUB book: its spine's XHTML documents in reading order, each
    with its boilerplate removed as for an HTML page (navigation documents left out)."""
    from lxml import etree  # optional

    with _open_zip(data, "epub") as z:
        try:
            container = etree.fromstring(z.read("META-INF/container.xml"))
            opf_path = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
            opf = etree.fromstring(z.read(opf_path))
        except (KeyError, IndexError, etree.XMLSyntaxError) as exc:
            raise RowError("unreadable_epub", f"not a readable EPUB file: {exc}") from None
        base = posixpath.dirname(opf_path)
        items = {i.get("id"): i for i in opf.xpath("//*[local-name()='item']")}
        parts, meta = [], {}
        title = opf.xpath("//*[local-name()='title']")
        if title and " ".join(text_of(title[0]).split()):
            meta["title"] = " ".join(text_of(title[0]).split())
        for ref in opf.xpath("//*[local-name()='itemref']/@idref"):
            item = items.get(ref)
            if item is None or "nav" in (item.get("properties") or "").split():
                continue
            try:
                page = z.read(posixpath.normpath(posixpath.join(base, item.get("href", ""))))
            except KeyError:
                continue
            parts.append(to_markdown(main_content(_html_tree(page))))
    return _finish("\n".join(p for p in parts if p.strip()), meta, "epub")


_ODF = {"text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
        "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0"}
_ODF_TAGS = {("text", "p"): "p", ("text", "list"): "ul", ("text", "list-item"): "li",
             ("text", "line-break"): "br", ("table", "table"): "table",
             ("table", "table-row"): "tr", ("table", "table-cell"): "td",
             ("text", "note"): "span", ("text", "span"): "span", ("text", "a"): "span"}


def read_odt(data: bytes, file: str) -> tuple[str, dict]:
    """``(markdown, meta)`` of an OpenDocument text: its content.xml mapped to HTML elements
    (``text:h`` with its outline level as a heading, paragraphs, lists, tables)."""
    from lxml import etree  # optional

    with _open_zip(data, "odt") as z:
        try:
            root = etree.fromstring(z.read("content.xml"))
        except (KeyError, etree.XMLSyntaxError) as exc:
            raise RowError("unreadable_odt", f"not a readable ODT file: {exc}") from None
        meta = _core_title(z, "meta.xml")
    body = root.find(".//{urn:oasis:names:tc:opendocument:xmlns:office:1.0}text")
    if body is None:
        raise RowError("no_text", "the ODT file has no text body")
    names = {v: k for k, v in _ODF.items()}
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        ns, _, local = el.tag[1:].partition("}")
        prefix = names.get(ns)
        if (prefix, local) == ("text", "h"):
            level = el.get(f"{{{_ODF['text']}}}outline-level", "1")
            el.tag = f"h{min(int(level), 6) if level.isdigit() else 1}"
        elif (prefix, local) == ("text", "s"):
            el.tag, el.text = "span", " " * int(el.get(f"{{{_ODF['text']}}}c", "1") or 1)
        elif (prefix, local) == ("text", "tab"):
            el.tag, el.text = "span", "\t"
        else:
            el.tag = _ODF_TAGS.get((prefix, local), "div")
        el.attrib.clear()
    body.tag = "body"
    return _finish(to_markdown(body), meta, "odt")
