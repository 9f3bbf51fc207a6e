"""Small documents written by the tests: PDFs (text, scanned, encrypted), DOCX, EPUB, ODT and
web archives, each in its real file format, built byte by byte or with the format's library."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

PAGE_W, PAGE_H = 612, 792


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF file of ``objects`` (object 1 is the catalog, 2 the info dictionary)."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R /Info 2 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_pdf(pages: list[list[tuple]], title: str = "") -> bytes:
    """A PDF whose pages hold text lines ``(x, y from the top, size, text[, "mono"])`` in
    Helvetica (Courier for "mono")."""
    n = len(pages)
    first_page = 5
    objects = [b"<< /Type /Catalog /Pages 3 0 R >>",
               b"<< /Title (%s) /Producer (curate tests) >>" % _escape(title),
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
                   b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(n)), n),
               b"<< /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding "
               b"/WinAnsiEncoding >> /F2 << /Type /Font /Subtype /Type1 /BaseFont /Courier "
               b"/Encoding /WinAnsiEncoding >> >>"]
    for i, lines in enumerate(pages):
        stream = b"".join(
            b"BT /%s %.1f Tf %.1f %.1f Td (%s) Tj ET\n" % (
                b"F2" if len(line) > 4 and line[4] == "mono" else b"F1", line[2], line[0],
                PAGE_H - line[1], _escape(line[3]))
            for line in lines)
        objects.append(b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 %d %d] /Resources << "
                       b"/Font 4 0 R >> /Contents %d 0 R >>" % (PAGE_W, PAGE_H,
                                                              first_page + 2 * i + 1))
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream")
    return _pdf(objects)


def scanned_pdf(pages: int = 2) -> bytes:
    """A PDF whose pages are only an image (a scan without a text layer)."""
    pixels = bytes(range(0, 256, 4)) * 4          # 16 x 16 gray
    first_page = 5
    objects = [b"<< /Type /Catalog /Pages 3 0 R >>", b"<< /Producer (scanner) >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
                   b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(pages)), pages),
               b"<< /Type /XObject /Subtype /Image /Width 16 /Height 16 /ColorSpace /DeviceGray "
               b"/BitsPerComponent 8 /Length %d >>\nstream\n" % len(pixels) + pixels
               + b"\nendstream"]
    stream = b"q 500 0 0 700 50 50 cm /Im1 Do Q\n"
    for i in range(pages):
        objects.append(b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] /Resources << "
                       b"/XObject << /Im1 4 0 R >> >> /Contents %d 0 R >>" % (first_page + 2 * i + 1))
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream")
    return _pdf(objects)


def encrypted_pdf(data: bytes, password: str = "s3cret") -> bytes:
    """``data`` encrypted with a user password (pypdf)."""
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password=password + "-owner",
                   algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _zip(files: dict[str, str | bytes], stored_first: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        if stored_first:
            z.writestr(stored_first, files[stored_first], compress_type=zipfile.ZIP_STORED)
        for name, content in files.items():
            if name != stored_first:
                z.writestr(name, content)
    return out.getvalue()


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx(blocks: list[tuple[str, str]], title: str = "") -> bytes:
    """A Word document of ``(style, text)`` paragraphs (style "" for body text, "Heading1",
    "Heading2", "ListBullet") and ``("table", "a|b;c|d")`` tables."""
    body = []
    for style, text in blocks:
        if style == "table":
            rows = "".join("<w:tr>" + "".join(
                f"<w:tc><w:p><w:r><w:t>{cell}</w:t></w:r></w:p></w:tc>" for cell in row.split("|"))
                + "</w:tr>" for row in text.split(";"))
            body.append(f"<w:tbl>{rows}</w:tbl>")
            continue
        props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        body.append(f'<w:p>{props}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>')
    styles = "".join(
        f'<w:style w:type="paragraph" w:styleId="{sid}"><w:name w:val="{name}"/></w:style>'
        for sid, name in (("Heading1", "heading 1"), ("Heading2", "heading 2"),
                          ("ListBullet", "List Bullet")))
    return _zip({
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.'
        'org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
        'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
        'application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.'
        'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
        'formats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"'
        '/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
        'relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>',
        "word/_rels/document.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://'
        'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
        'http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="'
        'styles.xml"/></Relationships>',
        "word/document.xml": f'<?xml version="1.0"?><w:document {_W}><w:body>{"".join(body)}'
                             "</w:body></w:document>",
        "word/styles.xml": f'<?xml version="1.0"?><w:styles {_W}>{styles}</w:styles>',
        "docProps/core.xml": '<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.'
        'openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/'
        f'elements/1.1/"><dc:title>{title}</dc:title></cp:coreProperties>',
    })


def epub(chapters: list[str], title: str) -> bytes:
    """An EPUB 3 book of XHTML ``chapters`` (body markup), with a navigation document."""
    files = {"mimetype": "application/epub+zip",
             "META-INF/container.xml": '<?xml version="1.0"?><container version="1.0" xmlns="urn:'
             'oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/'
             'book.opf" media-type="application/oebps-package+xml"/></rootfiles></container>'}
    items = ['<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" '
             'properties="nav"/>']
    refs = ['<itemref idref="nav"/>']
    files["OEBPS/nav.xhtml"] = ('<html xmlns="http://www.w3.org/1999/xhtml"><body><nav><ol>'
                                + "".join(f'<li><a href="c{i}.xhtml">Chapter {i}</a></li>'
                                          for i in range(len(chapters)))
                                + "</ol></nav></body></html>")
    for i, body in enumerate(chapters):
        files[f"OEBPS/c{i}.xhtml"] = ('<?xml version="1.0" encoding="utf-8"?><html xmlns="http:'
                                      f'//www.w3.org/1999/xhtml"><body>{body}</body></html>')
        items.append(f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>')
        refs.append(f'<itemref idref="c{i}"/>')
    files["OEBPS/book.opf"] = ('<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf"'
                               ' version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.'
                               f'1/"><dc:title>{title}</dc:title></metadata><manifest>'
                               f'{"".join(items)}</manifest><spine>{"".join(refs)}</spine>'
                               "</package>")
    return _zip(files, stored_first="mimetype")


def odt(body: str, title: str = "") -> bytes:
    """An OpenDocument text whose ``office:text`` holds ``body`` (text: and table: markup)."""
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis'
          ':names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:'
          'xmlns:table:1.0"')
    return _zip({"mimetype": "application/vnd.oasis.opendocument.text",
                 "content.xml": f'<?xml version="1.0"?><office:document-content {ns}><office:body>'
                                f"<office:text>{body}</office:text></office:body>"
                                "</office:document-content>",
                 "meta.xml": '<?xml version="1.0"?><office:document-meta xmlns:office="urn:oasis:'
                             'names:tc:opendocument:xmlns:office:1.0" xmlns:dc="http://purl.org/dc'
                             f'/elements/1.1/"><office:meta><dc:title>{title}</dc:title>'
                             "</office:meta></office:document-meta>"},
                stored_first="mimetype")


def write_warc(path: Path, records: list[tuple[str, str, bytes, str]]) -> Path:
    """A gzipped WARC of ``(url, content type, body, status)`` responses, each after its
    request record, written with warcio."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=str(path).endswith(".gz"))
        for url, ctype, body, status in records:
            req = writer.create_warc_record(url, "request", payload=io.BytesIO(b""),
                                            http_headers=StatusAndHeaders(
                                                f"GET {url} HTTP/1.1", [("Host", "example.org")],
                                                is_http_request=True))
            writer.write_record(req)
            headers = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response",
                                                          payload=io.BytesIO(body),
                                                          http_headers=headers))
    return path


# An encrypted Office file is an OLE compound file whose streams include "EncryptionInfo"
# (UTF-16 names in its directory): the header and that name are what readers look at.
_OLE_ENCRYPTED = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
                  + "EncryptionInfo".encode("utf-16-le") + bytes(64)
                  + "EncryptedPackage".encode("utf-16-le") + bytes(64))
