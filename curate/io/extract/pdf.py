"""PDF files as Markdown documents, with pypdfium2 (PDFium; BSD-3-Clause/Apache-2.0).

PDFium gives each page's characters in reading order with the line breaks it infers, and each
character's font size, flags (fixed pitch, bold) and box; :mod:`curate.io.extract.pdf_layout`
turns those lines into Markdown. Rejected files: ``encrypted`` (a password is needed to open
it), ``unreadable_pdf`` (not a PDF, or damaged), ``no_text`` (no text layer: a scanned PDF,
whose pages are images, is named as such).
"""

from __future__ import annotations

import ctypes
import re
from collections import Counter

from ...errors import RowError
from .pdf_layout import Layout, Line, layout

_FIXED_PITCH, _FORCE_BOLD = 1, 1 << 18
_SUPERSCRIPT = str.maketrans("\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079",
                             "0123456789")
_SUP_DIGITS = set("\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")
_MONO_NAME = re.compile(r"courier|mono|consol|typewriter|code|menlo|inconsolata|fixed", re.I)
_BOLD_NAME = re.compile(r"bold|black|heavy", re.I)
_SOFT_HYPHEN = "\ufffe"
_PASSWORD_ERROR = 4            # FPDF_ERR_PASSWORD
_MIN_CHARS_PER_PAGE = 20       # less text than this on every page: no text layer


def read_pdf(path: str, file: str) -> tuple[Layout, dict]:
    """``(layout, meta)`` of a PDF file; meta has ``title`` and ``page_count``. RowError
    ``encrypted``, ``unreadable_pdf`` or ``no_text`` for a file that gives no text."""
    import pypdfium2 as pdfium  # optional

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _PASSWORD_ERROR or "password" in str(exc).lower():
            raise RowError("encrypted", "the PDF is encrypted: it needs a password to be "
                           "opened") from None
        raise RowError("unreadable_pdf", f"not a readable PDF file: {exc}") from None
    try:
        pages = len(pdf)
        lines: list[Line] = []
        chars = images = 0
        for i in range(pages):
            page = pdf[i]
            try:
                got = _page_lines(page, i)
                chars += sum(len(x.text.strip()) for x in got)
                lines += got
                if not got:
                    images += _has_image(page)
            finally:
                page.close()
        meta: dict = {"page_count": pages}
        title = (pdf.get_metadata_dict().get("Title") or "").strip()
    except pdfium.PdfiumError as exc:
        raise RowError("unreadable_pdf", f"a damaged PDF file: {exc}") from None
    finally:
        pdf.close()
    if pages == 0:
        raise RowError("unreadable_pdf", "a PDF file without pages")
    if chars < _MIN_CHARS_PER_PAGE * min(pages, 3) or not lines:
        if images:
            raise RowError("no_text", f"a scanned PDF: {images} of its {pages} pages are "
                           "images without a text layer; run OCR on it first (e.g. ocrmypdf)")
        raise RowError("no_text", f"the PDF has no text ({pages} pages)")
    result = layout(lines, pages)
    if not result.text.strip():
        raise RowError("no_text", f"no text left in the PDF ({pages} pages) after removing "
                       "page headers, footers and numbers")
    first = next((ln for ln in result.text.split("\n") if ln.startswith("# ")), None)
    if title or first:
        meta["title"] = title or first[2:].strip()
    return result, meta


def _page_lines(page, index: int) -> list[Line]:
    import pypdfium2.raw as raw  # optional

    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        if count <= 0:
            return []
        text = textpage.get_text_range(0, count)
        if len(text) != count:             # characters outside the BMP: read them one by one
            text = "".join(chr(raw.FPDFText_GetUnicode(textpage.raw, j) or 32)
                           for j in range(count))
        height = page.get_height()
        styles: dict = {}
        cells = (ctypes.c_int(), ctypes.c_double(), ctypes.c_double(),
                 ctypes.create_string_buffer(96))
        out, start = [], 0
        for piece in text.split("\n"):
            seg = start
            parts = piece.rstrip("\r").split(_SOFT_HYPHEN)
            for k, part in enumerate(parts):   # PDFium joins a line ending in a hyphen with
                if part.strip():               # the next one (U+FFFE): split them again
                    line = _line(textpage, index, part, seg, height, styles, cells)
                    if k < len(parts) - 1:
                        line.text += "-"
                    out.append(line)
                seg += len(part) + 1
            start += len(piece) + 1
        return out
    finally:
        textpage.close()


def _line(textpage, index: int, line: str, start: int, height: float, styles: dict,
          cells: tuple) -> Line:
    """The :class:`Line` of the characters ``start`` to ``start + len(line)`` of a page: the
    size most of them have, monospaced or bold when 95% are, the first one's box and
    baseline, the last one's baseline."""
    import pypdfium2.raw as raw  # optional

    tp = textpage.raw
    flags, ox, oy, name = cells
    ref, ox_ref, oy_ref = ctypes.byref(flags), ctypes.byref(ox), ctypes.byref(oy)
    size_of, info_of = raw.FPDFText_GetFontSize, raw.FPDFText_GetFontInfo
    sizes, mono, bold = Counter(), 0, 0
    idx = [j for j in range(start, start + len(line)) if not line[j - start].isspace()]
    per_char = []
    for j in idx:
        size = size_of(tp, j)
        info_of(tp, j, name, 96, ref)
        key = (name.value, flags.value)
        style = styles.get(key)
        if style is None:
            style = styles[key] = _style(*key)
        sizes[round(size * 2) / 2] += 1
        mono += style[0]
        bold += style[1]
        per_char.append(size)
    size = sizes.most_common(1)[0][0]
    left, _, _, top = textpage.get_charbox(idx[0])
    _, bottom, _, _ = textpage.get_charbox(idx[-1])
    raw.FPDFText_GetCharOrigin(tp, idx[-1], ox_ref, oy_ref)
    end_base = height - oy.value
    raw.FPDFText_GetCharOrigin(tp, idx[0], ox_ref, oy_ref)
    n = len(idx)
    return Line(page=index, text=_superscripts(line, idx, per_char, start, size), size=size,
                bold=bold >= 0.95 * n, mono=mono >= 0.95 * n, x0=left, top=height - top,
                bottom=height - bottom, base=height - oy.value, end_base=end_base,
                page_height=height)


def _style(name: bytes, flags: int) -> tuple[bool, bool]:
    """(monospaced, bold) of a font, from its flags or, for fonts without a descriptor (the
    standard 14), its name."""
    text = name.decode("latin-1")
    return (bool(flags & _FIXED_PITCH or _MONO_NAME.search(text)),
            bool(flags & _FORCE_BOLD or _BOLD_NAME.search(text)))


def _superscripts(line: str, idx: list[int], sizes: list[float], start: int,
                  size: float) -> str:
    """Footnote marks: superscript digits, and digits in a much smaller font than their line,
    as ``[n]``."""
    small = {j - start for j, s in zip(idx, sizes) if s < 0.85 * size and line[j - start].isdigit()}
    out, i = [], 0
    while i < len(line):
        ch = line[i]
        if ch in _SUP_DIGITS or i in small:
            j = i
            while j < len(line) and (line[j] in _SUP_DIGITS or j in small):
                j += 1
            lead = ""                  # "1⁴": fonts that map the first digit to a plain one
            while out and out[-1].isdigit() and len(lead) < 2:
                lead = out.pop() + lead
            out.append("[" + lead + line[i:j].translate(_SUPERSCRIPT) + "]")
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _has_image(page) -> bool:
    import pypdfium2.raw as raw  # optional

    return any(obj.type == raw.FPDF_PAGEOBJ_IMAGE for obj in page.get_objects(max_depth=2))
