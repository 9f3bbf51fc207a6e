"""The prose of a text, which its language is judged on: code, URLs and file paths removed.

Instruction data is full of code (fenced blocks, inline code, doctest sessions, rst literal
blocks) and of commands, URLs and paths; none of it is the language the record is written in,
and left in, it pulls an English answer with a long code block towards "unknown" or another
language.
"""

from __future__ import annotations

import re

# fenced blocks (``` or ~~~), closed or running to the end of the text (a cut-off reply)
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*\1[ \t]*$|\Z)", re.M | re.S)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_URL = re.compile(r"\b(?:https?|ftp|file|sh)://\S+|\bwww\.\S+", re.I)
_PATH = re.compile(r"(?<![\w/])~?(?:/[\w.*~+\-]+){2,}/?")
_DOCTEST = re.compile(r"^[ \t]*(?:>>>|\.\.\.)(?: .*)?$", re.M)
_BLANK = re.compile(r"\n[ \t]*\n")
_NOT_LETTER = re.compile(r"[\W\d_]+")
_LETTERLESS_WORD = re.compile(r"(?<!\S)(?:[^\w\s]|[\d_])+(?!\S)")


def _drop_literal_blocks(text: str) -> str:
    """Paragraphs indented by 4+ spaces (or a tab) right after a paragraph ending in ``:``
    (rst's ``::`` literal blocks, markdown's indented code after "as follows:")."""
    out: list[str] = []
    after_colon = False
    for para in _BLANK.split(text):
        lines = [ln for ln in para.split("\n") if ln.strip()]
        indented = bool(lines) and all(ln.startswith(("    ", "\t")) for ln in lines)
        if indented and after_colon:
            continue  # a literal block; the next one after it is code too
        out.append(para)
        if lines:
            after_colon = lines[-1].rstrip().endswith(":")
    return "\n\n".join(out)


def prose(text: str) -> str:
    """``text`` without fenced code, inline code, doctest lines, literal blocks, URLs and
    paths (paragraph breaks kept)."""
    # each pattern only where its mark is (most paragraphs have none: a few times faster)
    if "```" in text or "~~~" in text:
        text = _FENCE.sub("\n", text)
    if ">>>" in text:
        text = _DOCTEST.sub("", text)
    if ":" in text and ("\n    " in text or "\n\t" in text):
        text = _drop_literal_blocks(text)
    if "`" in text:
        text = _INLINE_CODE.sub(" ", text)
    if "://" in text or "www." in text:
        text = _URL.sub(" ", text)
    return _PATH.sub(" ", text) if "/" in text else text


def paragraphs(text: str) -> list[str]:
    """The blank-line separated paragraphs of ``text`` that hold a letter, stripped."""
    return [p.strip() for p in _BLANK.split(text) if letters(p)]


def letters(text: str) -> int:
    """How many letters ``text`` has (any script: a kanji or a kana counts as one)."""
    return len(_NOT_LETTER.sub("", text))


def words_with_letters(text: str) -> str:
    """The white-space separated words of ``text`` that hold a letter, on one line."""
    return " ".join(_LETTERLESS_WORD.sub(" ", text).split())
