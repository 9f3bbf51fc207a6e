"""The text lines of a PDF (with their font size, weight, pitch and place on the page) as
Markdown: running headers and footers and page numbers removed, paragraphs joined across lines
and pages, words hyphenated at a line end rejoined, headings from font sizes, bullet lists as
Markdown lists, monospaced blocks fenced, footnotes moved to the end of their section.

Independent of the PDF library: :mod:`curate.io.extract.pdf` makes the :class:`Line` objects.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Line:
    page: int                  # 0-based
    text: str
    size: float = 0.0          # font size of most of its characters (0: unknown)
    bold: bool = False
    mono: bool = False
    x0: float = 0.0
    top: float = 0.0           # from the top of the page, in points
    bottom: float = 0.0
    base: float = 0.0          # baseline of its first character, from the top of the page
    end_base: float = 0.0      # and of its last (PDFium joins lines at a hyphenated word)
    page_height: float = 0.0
    kind: str = "body"         # body | heading | code | note (footnote)
    level: int = 0
    toc: bool = False          # an entry of a table of contents


@dataclass
class Layout:
    text: str
    page_starts: list[int] = field(default_factory=list)   # offset where each page begins
    headings: int = 0


_PAGE_NUMBER = re.compile(r"^\W*(?:page\s*)?(?:\d{1,4}|[ivxlcdm]{1,7})(?:\s*(?:/|of)\s*\d{1,4})?"
                          r"\W*$", re.I)
_BULLET = re.compile(r"^([\u2022\u25cf\u25aa\u25a0\u25e6\u2023\u2043\u2219\u00b7\u2013\u2014*\-\u25cb\u25a1\u2666\u27a2])\s+")
_LEADER = re.compile(r"(?:\s*\.){4,}\s*(?:\d+|[ivxlc]+)\s*$")
_TOC_NUMBER = re.compile(r"\s(?:\d{1,4}|[ivxlc]{1,6})$")
_SENTENCE_END = re.compile(r"[.!?:;)\]\"\u201d\u2019]$")
_HYPHEN_END = re.compile(r"(\S*?)(\w)-$")
_WORD_START = re.compile(r"([a-z][\w'\u2019-]*)")
_LABEL = re.compile(r"^(?:chapter|part|appendix|section|book)\s+[\w.]+$", re.I)
_WORDS = re.compile(r"\w+(?:[-'\u2019]\w+)*")
ZONE = 0.12                   # top and bottom share of a page where running lines live


def layout(lines: list[Line], pages: int) -> Layout:
    """The Markdown of ``lines`` (in reading order), with where each of ``pages`` starts."""
    lines = _drop_running(lines, pages)
    body = _body_size(lines)
    _classify(lines, body, pages)
    vocab = {w.lower() for line in lines for w in _WORDS.findall(line.text) if "-" in w}
    return _Writer(vocab, pages).write(lines)


def _key(text: str) -> str:
    """A running line's words without its numbers (page numbers, roman or arabic)."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    return " ".join(w for w in words if not re.fullmatch(r"[ivxlcdm]{1,7}", w))


def _zone(line: Line) -> str | None:
    if not line.page_height:
        return None
    if line.top < ZONE * line.page_height:
        return "top"
    if line.bottom > (1 - ZONE) * line.page_height:
        return "bottom"
    return None


def _drop_running(lines: list[Line], pages: int) -> list[Line]:
    """Lines in a page's top or bottom zone that repeat (digits aside) on several pages, or
    that are only a page number."""
    by_page: dict[int, list[Line]] = {}
    for line in lines:
        by_page.setdefault(line.page, []).append(line)
    edges: dict[int, list[tuple[str, Line]]] = {}
    for page, group in by_page.items():
        placed = sorted(group, key=lambda x: x.top)
        cands = []
        for line in placed[:2]:
            zone = _zone(line) or ("top" if not line.page_height and line is group[0] else None)
            if zone == "top":
                cands.append(("top", line))
        for line in placed[-2:]:
            zone = _zone(line) or ("bottom" if not line.page_height and line is group[-1]
                                   else None)
            if zone == "bottom" and all(line is not c for _, c in cands):
                cands.append(("bottom", line))
        edges[page] = cands
    counts = Counter((z, _key(line.text)) for cands in edges.values()
                     for z, line in {(z, _key(x.text)): (z, x) for z, x in cands}.values())
    need = max(3, int(0.25 * pages)) if pages >= 4 else pages + 1
    drop = set()
    for cands in edges.values():
        for z, line in cands:
            if counts[(z, _key(line.text))] >= need or _PAGE_NUMBER.match(line.text):
                drop.add(id(line))
    return [line for line in lines if id(line) not in drop]


def _body_size(lines: list[Line]) -> float:
    sizes = Counter()
    for line in lines:
        if line.size:
            sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _classify(lines: list[Line], body: float, pages: int) -> None:
    lowest: dict[int, float] = {}          # bottom of the last body-size line of each page
    for line in lines:
        if line.size and line.size > 0.85 * body:
            lowest[line.page] = max(lowest.get(line.page, 0.0), line.bottom)
    for line in lines:
        words = len(line.text.split())
        if line.mono:
            line.kind = "code"
        elif body and line.size >= 1.15 * body and words <= 20 and re.search(r"[^\W\d]",
                                                                               line.text):
            line.kind = "heading"
        elif (body and line.size and line.size <= 0.85 * body and line.page_height
              and line.top >= lowest.get(line.page, 0.0) - 1):
            line.kind = "note"
    per_page: dict[int, list[Line]] = {}
    for line in lines:
        per_page.setdefault(line.page, []).append(line)
    for group in per_page.values():      # a page of a table of contents: leaders to numbers
        if sum(bool(_LEADER.search(x.text)) for x in group) >= 0.3 * len(group):
            for x in group:
                if x.kind == "body" and (_LEADER.search(x.text) or _TOC_NUMBER.search(x.text)):
                    x.toc = True
    sizes = sorted({round(x.size) for x in lines if x.kind == "heading"}, reverse=True)
    for line in lines:
        if line.kind == "heading":
            line.level = min(sizes.index(round(line.size)) + 1, 6)


class _Writer:
    def __init__(self, vocab: set[str], pages: int):
        self.vocab, self.pages = vocab, pages
        self.bullets: list[float] = []      # x of the bullets of the list we are in
        self.tight = False                  # the last block was a table of contents entry
        self.parts: list[str] = []
        self.length = 0
        self.page_starts: list[int | None] = [None] * pages
        self.notes: list[list[Line]] = []
        self.block: list[Line] = []
        self.headings = 0

    def write(self, lines: list[Line]) -> Layout:
        prev: Line | None = None
        for line in lines:
            if line.kind == "note":
                if _starts_note(line.text) or not self.notes:
                    self.notes.append([line])
                else:
                    self.notes[-1].append(line)
                continue
            if self.block and self._breaks(prev, line):
                self.flush()
            if line.kind == "heading" and self.notes:
                self.flush()
                self.flush_notes()
            self.block.append(line)
            prev = line
        self.flush()
        self.flush_notes()
        starts, last = [], self.length
        for s in reversed(self.page_starts):   # pages without text start where the next does
            last = s if s is not None else last
            starts.append(last)
        text = "".join(self.parts)
        return Layout(text, list(reversed(starts)), self.headings)

    def _breaks(self, prev: Line, line: Line) -> bool:
        first = self.block[0]
        if line.kind != first.kind:
            return True
        if line.kind == "heading":
            return not (line.page == prev.page and (line.level == prev.level or _LABEL.match(
                prev.text.strip())) and len(self.block) < 3)
        if line.kind == "code":
            return line.page == prev.page and line.base - (prev.end_base or prev.base) > \
                2.0 * max(prev.size, 1)
        if _BULLET.match(line.text) or prev.toc or line.toc:
            return True
        if line.page != prev.page:
            return bool(_SENTENCE_END.search(prev.text.rstrip())) and not line.text[:1].islower()
        pitch = line.base - (prev.end_base or prev.base)
        return pitch > 1.45 * max(prev.size, line.size, 1) or (
            line.size and prev.size and abs(line.size - prev.size) > 0.6)

    def emit(self, text: str, marks: list[tuple[int, int]], tight: bool = False) -> None:
        """Add a block; ``marks``: (offset in ``text``, page) where a page's text begins;
        ``tight``: a list item that follows the last one without a blank line."""
        if self.parts:
            sep = "\n" if tight and self.tight else "\n\n"
            self.parts.append(sep)
            self.length += len(sep)
        self.tight = tight
        for offset, page in marks:
            if 0 <= page < self.pages and self.page_starts[page] is None:
                self.page_starts[page] = self.length + offset
        self.parts.append(text)
        self.length += len(text)

    def flush(self) -> None:
        block, self.block = self.block, []
        if not block:
            return
        kind = block[0].kind
        if kind == "heading":
            self.bullets = []
            text, marks = self._join(block)
            text = "#" * min(x.level for x in block) + " " + " ".join(text.split())
            marks = [(0, p) for _, p in marks]
            self.headings += 1
        elif kind == "code":
            left = min(x.x0 for x in block)
            width = 0.6 * max(block[0].size, 1)
            rows, marks, pos = [], [], 4
            for x in block:
                if not rows or x.page != block[0].page or x is block[0]:
                    marks.append((pos, x.page))
                row = " " * max(0, round((x.x0 - left) / width)) + x.text.rstrip()
                rows.append(row)
                pos += len(row) + 1
            fence = "```"
            while any(fence in r for r in rows):
                fence += "`"
            text = f"{fence}\n" + "\n".join(rows) + f"\n{fence}"
        else:
            text, marks = self._join(block)
            bullet = _BULLET.match(text)
            if block[0].toc:
                text = _TOC_NUMBER.sub("", _LEADER.sub("", text)).strip()
                self.emit("- " + text, [(0, p) for _, p in marks[:1]], tight=True)
                return
            if bullet:
                x = block[0].x0
                while self.bullets and self.bullets[-1] > x + 2:
                    self.bullets.pop()
                if not self.bullets or x > self.bullets[-1] + 2:
                    self.bullets.append(x)
                indent = "  " * min(len(self.bullets) - 1, 3)
                text = indent + "- " + text[bullet.end():]
                marks = [(0 if o < bullet.end() else o - bullet.end() + len(indent) + 2, p)
                         for o, p in marks]
            else:
                if not self.bullets or block[0].x0 <= self.bullets[0] + 2:
                    self.bullets = []
                if text.startswith("#"):
                    text = "\\" + text
                    marks = [(o + (o > 0), p) for o, p in marks]
        self.emit(text, marks)

    def flush_notes(self) -> None:
        notes, self.notes = self.notes, []
        for note in notes:
            text, marks = self._join(note)
            m = re.match(r"^\[?(\d{1,3})\]?\s*(?=[^\W\d])", text)
            if m:
                text = f"[{m.group(1)}] " + text[m.end():]
            self.emit(text, [(0, p) for _, p in marks[:1]])

    def _join(self, lines: list[Line]) -> tuple[str, list[tuple[int, int]]]:
        """The lines' text joined with spaces (a word hyphenated at a line end rejoined), and
        where each page's first line starts in it."""
        text, marks, page = "", [], None
        for line in lines:
            piece = line.text.strip()
            if not piece:
                continue
            if text:
                hyphen = _HYPHEN_END.search(text)
                start = _WORD_START.match(piece)
                if hyphen and start:                # a word cut at the line end, or a
                    if not self._keep_hyphen(hyphen.group(0), start.group(1)):
                        text = text[:-1]            # hyphenated word cut at its hyphen
                elif text.endswith("/-") and not piece[0].isspace():
                    text = text[:-1]                # a URL broken after a slash
                elif re.search(r"\S/$", text) and "/" in piece.split(" ", 1)[0]:
                    pass                            # a path broken after a slash
                else:
                    text += " "
            if line.page != page:
                marks.append((len(text), line.page))
                page = line.page
            text += piece
        return text, marks

    def _keep_hyphen(self, left: str, right: str) -> bool:
        """Whether ``left-`` + ``right`` is a hyphenated word (it appears so in the document)
        rather than one word hyphenated at the line end."""
        left = re.sub(r"^\W+", "", left.rstrip("-").rsplit("/", 1)[-1].lower())
        right = re.sub(r"\W+$", "", right.lower())
        return f"{left}-{right}" in self.vocab



def _starts_note(text: str) -> bool:
    return bool(re.match(r"^\s*(?:\d{1,3}|\[\d{1,3}\]|[*\u2020\u2021])\s*\S", text))
