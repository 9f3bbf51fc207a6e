"""Documents split into passages for ``generate.questions``: by section headings (Markdown,
rST; as the ``docs`` converter finds them), then by paragraphs, packed into passages of at most
``max_tokens`` (estimated as words x 4/3); a paragraph longer than that is cut at sentence ends.

Each passage keeps where it came from: its character offsets in the document (``start``,
``end``: ``text[start:end]``) and the titles of the sections it is in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..convert.docs_headings import find_headings

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Passage:
    text: str
    start: int
    end: int
    section: list[str] = field(default_factory=list)


def estimate_tokens(text: str) -> int:
    return (len(text.split()) * 4 + 2) // 3


def _blocks(text: str, markdown: bool) -> list[tuple[int, int, list[str]]]:
    """``(start, end, section)`` of each paragraph of ``text`` (headings excluded)."""
    lines = text.split("\n")
    starts, pos = [], 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    heads = find_headings([line.expandtabs(8).rstrip() for line in lines], markdown)
    heading_at = {h.start: h for h in heads}
    blocks, stack, i = [], [], 0
    para_start = None

    def close(j: int) -> None:
        nonlocal para_start
        if para_start is not None:
            end = starts[j - 1] + len(lines[j - 1])
            blocks.append((starts[para_start], end, [h.title for h in stack]))
            para_start = None

    while i < len(lines):
        h = heading_at.get(i)
        if h is not None:
            close(i)
            while stack and stack[-1].level >= h.level:
                stack.pop()
            stack.append(h)
            i = h.end
            continue
        if lines[i].strip():
            para_start = i if para_start is None else para_start
        else:
            close(i)
        i += 1
    close(len(lines))
    return blocks


def _sentences(text: str, start: int, end: int, budget: int) -> list[tuple[int, int]]:
    """A paragraph over the budget, cut at sentence ends into spans within it."""
    spans, cut = [], start
    last_end = start
    for m in _SENTENCE_END.finditer(text, start, end):
        if estimate_tokens(text[cut:m.start()]) > budget and last_end > cut:
            spans.append((cut, last_end))
            cut = last_start
        last_end, last_start = m.start(), m.end()
    if estimate_tokens(text[cut:end]) > budget and last_end > cut:
        spans.append((cut, last_end))
        cut = last_start
    spans.append((cut, end))
    return spans


def split_passages(text: str, *, max_tokens: int = 300, min_tokens: int = 20,
                   markdown: bool = False) -> list[Passage]:
    """The passages of ``text``; a section's paragraphs are packed while they fit, never
    across a heading. Passages under ``min_tokens`` are left out (titles, stray lines)."""
    spans: list[tuple[int, int, list[str]]] = []
    for start, end, section in _blocks(text, markdown):
        if estimate_tokens(text[start:end]) > max_tokens:
            spans += [(s, e, section) for s, e in _sentences(text, start, end, max_tokens)]
        else:
            spans.append((start, end, section))
    out: list[Passage] = []
    for start, end, section in spans:
        last = out[-1] if out else None
        if (last is not None and last.section == section
                and estimate_tokens(text[last.start:end]) <= max_tokens):
            last.end, last.text = end, text[last.start:end]
        else:
            out.append(Passage(text[start:end], start, end, section))
    return [p for p in out if estimate_tokens(p.text) >= min_tokens]
