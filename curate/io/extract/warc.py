"""Web archives (``.warc``, ``.warc.gz``) as one document per HTML page, through warcio
(Apache-2.0), which reads plain and gzipped WARC (and ARC) files as a stream.

A record is a page when it is a ``response`` (or ``resource``) whose HTTP status is 2xx and
whose Content-Type is HTML (``text/html``, ``application/xhtml+xml``; a response without a type
whose body looks like HTML counts too). Other records (requests, metadata, images, scripts,
redirects, errors) are not documents: they are counted, not read. A page is read as an HTML file
with its ``WARC-Target-URI`` as ``url`` and the charset the server declared; its ``line`` is the
record's number in the archive (1-based, all records counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ...errors import RowError

_HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml+xhtml")


@dataclass
class WarcPage:
    record: int               # 1-based number of the record in the archive
    url: str
    data: bytes | None        # the body (None when the record could not be read)
    charset: str | None = None
    date: str | None = None
    error: RowError | None = None


def iter_warc(path: str, counts: dict | None = None) -> Iterator[WarcPage]:
    """The HTML pages of a web archive, as they come; ``counts`` (if given) gets the number of
    records that are not pages under ``skipped_records``. A damaged archive ends with one
    page whose ``error`` is ``unreadable_warc``."""
    from warcio.archiveiterator import ArchiveIterator  # optional

    number = 0
    with open(path, "rb") as f:
        try:
            for rec in ArchiveIterator(f, arc2warc=True):
                number += 1
                page = _page(rec, number)
                if page is None:
                    if counts is not None:
                        counts["skipped_records"] = counts.get("skipped_records", 0) + 1
                    continue
                yield page
        except Exception as exc:  # noqa: BLE001  warcio fails on damage in many ways
            yield WarcPage(number + 1, "", None, error=RowError(
                "unreadable_warc", f"a damaged web archive after record {number}: {exc}"))


def _page(rec, number: int) -> WarcPage | None:
    if rec.rec_type not in ("response", "resource"):
        return None
    url = rec.rec_headers.get_header("WARC-Target-URI") or ""
    date = rec.rec_headers.get_header("WARC-Date")
    http = rec.http_headers
    if rec.rec_type == "response" and http is not None:
        status = (http.get_statuscode() or "")
        if not status.startswith("2"):
            return None
        ctype = http.get_header("Content-Type") or ""
    else:
        ctype = rec.rec_headers.get_header("Content-Type") or ""
    mime, _, params = ctype.partition(";")
    mime = mime.strip().lower()
    try:
        body = rec.content_stream().read()
    except Exception as exc:  # warcio's decompression of a damaged body (zlib, brotli)
        return WarcPage(number, url, None, date=date, error=RowError(
            "unreadable_warc", f"record {number} ({url}): its body cannot be read: {exc}"))
    if mime and mime not in _HTML_TYPES:
        return None
    if not mime and b"<html" not in body[:2048].lower():
        return None
    charset = None
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value.strip():
            charset = value.strip().strip('"').lower()
    return WarcPage(number, url, body, charset, date)
