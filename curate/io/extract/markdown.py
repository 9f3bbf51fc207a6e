"""An HTML element tree (lxml) as Markdown: headings ``#``, paragraphs, lists, pipe tables,
fenced code, block quotes; links and emphasis as their text, inline code in backticks, images
left out. What is boilerplate is decided before (:mod:`curate.io.extract.html`); this module only
renders what it is given.
"""

from __future__ import annotations

import re

_BLOCKS = {"address", "article", "aside", "blockquote", "body", "center", "dd", "details",
           "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
           "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li",
           "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
           "td", "tfoot", "th", "thead", "tr", "ul", "caption", "listing", "xmp", "plaintext"}
_SKIP = {"script", "style", "noscript", "template", "svg", "math", "img", "picture", "video",
         "audio", "canvas", "iframe", "object", "embed", "head", "title", "meta", "link",
         "button", "input", "select", "textarea", "option", "map", "area", "source", "track"}
_CODE = {"code", "tt", "kbd", "samp", "var"}
_PRE = {"pre", "listing", "xmp", "plaintext"}
_BR = "\u2028"              # a <br> inside inline text, until white space is collapsed
_SPACE = re.compile(r"[ \t\n\r\f\v\u00a0\u200b]+")
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")    # soft hyphen, zero widths
_HEADING_LIKE = re.compile(r"^(#{1,6}(?=\s|$)|```|~~~|={3,}\s*$|-{3,}\s*$)")  # read as markup


def tag_of(el) -> str:
    """The element's tag ("" for comments and processing instructions); lxml's HTML parser
    gives lower-case names without namespaces."""
    tag = el.tag
    return tag if isinstance(tag, str) else ""


def text_of(el) -> str:
    """All the text inside ``el`` (lxml.etree elements have no ``text_content``)."""
    return "".join(el.itertext())


def to_markdown(root) -> str:
    """``root`` (an lxml element) as Markdown text: blocks separated by a blank line."""
    blocks = _Renderer().blocks(root)
    text = "\n\n".join(b for b in blocks if b.strip())
    return _INVISIBLE.sub("", text).strip() + "\n" if text.strip() else ""


class _Renderer:
    def blocks(self, el) -> list[str]:
        """The Markdown blocks of a container element's content."""
        out: list[str] = []
        inline: list[str] = []

        def flush() -> None:
            text = "".join(inline)
            inline.clear()
            if text and not text.isspace():
                text = _paragraph(text)
                if text:
                    out.append(text)

        if el.text:
            inline.append(el.text)
        for child in el:
            tag = tag_of(child)
            if tag in _SKIP or not tag:
                pass
            elif tag in _BLOCKS:
                flush()
                out += self.block(child, tag)
            else:
                inline.append(self.inline(child, tag))
            if child.tail:
                inline.append(child.tail)
        flush()
        return out

    def block(self, el, tag: str) -> list[str]:
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            text = _SPACE.sub(" ", text_of(el)).strip()        # a title: no inline markup
            return [f"{'#' * int(tag[1])} {text}"] if text else []
        if tag in _PRE:
            return [_fence(text_of(el))]
        if tag in ("ul", "ol", "menu", "dir"):
            return self.list(el, ordered=tag == "ol")
        if tag == "table":
            return self.table(el)
        if tag == "blockquote":
            inner = "\n\n".join(self.blocks(el))
            return ["\n".join("> " + line if line else ">" for line in inner.split("\n"))] \
                if inner.strip() else []
        if tag == "hr":
            return []
        return self.blocks(el)

    def inline(self, el, tag: str) -> str:
        if tag == "br":
            return _BR
        if tag in _CODE:
            code = _SPACE.sub(" ", text_of(el)).strip()
            if not code:
                return ""
            tick = "``" if "`" in code else "`"
            return f"{tick}{code}{tick}"
        return self.inline_content(el)

    def inline_content(self, el) -> str:
        parts = [el.text or ""]
        for child in el:
            tag = tag_of(child)
            if tag and tag not in _SKIP:
                parts.append(self.inline(child, tag) if tag not in _BLOCKS
                             else " " + self.inline_content(child) + " ")
            parts.append(child.tail or "")
        return "".join(parts)

    def list(self, el, ordered: bool) -> list[str]:
        items, loose = [], False
        number = int(el.get("start", "1")) if (el.get("start") or "1").isdigit() else 1
        for child in el:
            tag = tag_of(child)
            if tag not in ("li", "ul", "ol"):
                continue
            if tag != "li":                    # a list directly inside a list
                items += self.list(child, ordered=tag == "ol")
                continue
            blocks = self.blocks(child)
            if not blocks:
                continue
            marker = f"{number}. " if ordered else "- "
            number += 1
            loose = loose or len(blocks) > 1
            pad = " " * len(marker)
            body = "\n\n".join(blocks).split("\n")
            items.append(marker + body[0] + "".join(
                "\n" + (pad + line if line else "") for line in body[1:]))
        if not items:
            return []
        return ["\n\n".join(items) if loose else "\n".join(items)]

    def table(self, el) -> list[str]:
        rows = [r for r in el.iter() if tag_of(r) == "tr" and _owner_table(r) is el]
        if not rows:
            return self.blocks(el)
        cells = [[c for c in r if tag_of(c) in ("td", "th")] for r in rows]
        layout = any(_has_blocks(c) for row in cells for c in row)
        if layout or max(len(r) for r in cells) < 2:     # a layout table: its cells as blocks
            out: list[str] = []
            for row in cells:
                for c in row:
                    out += self.blocks(c)
            return out
        grid = []
        for row in cells:
            line = []
            for c in row:
                text = _SPACE.sub(" ", self.inline_content(c).replace(_BR, " ")).strip()
                line.append(text.replace("|", "\\|"))
                span = c.get("colspan", "1")
                line += [""] * (int(span) - 1 if span.isdigit() and int(span) > 1 else 0)
            grid.append(line)
        grid = [r for r in grid if any(r)]
        if not grid:
            return []
        width = max(len(r) for r in grid)
        grid = [r + [""] * (width - len(r)) for r in grid]
        lines = ["| " + " | ".join(grid[0]) + " |", "|" + "---|" * width]
        lines += ["| " + " | ".join(r) + " |" for r in grid[1:]]
        caption = next((c for c in el if tag_of(c) == "caption"), None)
        head = [_paragraph(self.inline_content(caption))] if caption is not None else []
        return [h for h in head if h] + ["\n".join(lines)]


def _owner_table(el):
    p = el.getparent()
    while p is not None and tag_of(p) != "table":
        p = p.getparent()
    return p


_CELL_BLOCKS = {"p", "div"}
_LONG_CELL = 40                 # words: a cell this long is prose, in a table used for layout


def _has_blocks(cell) -> bool:
    """Whether a cell holds more than a line of text: blocks other than one paragraph, or
    prose (a layout table's cell, e.g. a note box)."""
    blocks = [tag_of(d) for d in cell.iterdescendants() if tag_of(d) in _BLOCKS]
    return (any(b not in _CELL_BLOCKS for b in blocks) or len(blocks) > 1
            or len(text_of(cell).split()) > _LONG_CELL)


def _paragraph(text: str) -> str:
    """Inline text as one paragraph: white space collapsed, ``<br>`` kept as line breaks, and
    lines that Markdown would read as a heading or a fence escaped."""
    lines = [_SPACE.sub(" ", part).strip() for part in text.split(_BR)]
    lines = [line for line in lines if line]
    return "\n".join("\\" + line if _HEADING_LIKE.match(line) else line for line in lines)


def _fence(code: str) -> str:
    code = _INVISIBLE.sub("", code).replace("\r\n", "\n").replace("\r", "\n")
    code = code.strip("\n").rstrip()
    if not code.strip():
        return ""
    fence = "```"
    while fence in code:
        fence += "`"
    return f"{fence}\n{code}\n{fence}"
