"""Headings and inline markup for the ``docs`` converter (see :mod:`curate.convert.docs`).

:func:`find_headings` finds the section headings of a document's lines; :func:`inline` turns rST
(and a little Markdown) inline markup into plain text, or into Markdown-ish text in answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ADORN = re.compile(r"([=\-~^\"'*+#:._`])\1{2,}$")        # rST over/underline, 3+ chars
_MD_UNDER = re.compile(r"(=|-)\1{2,}$")                     # Markdown setext underline
_ATX = re.compile(r"(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?$")
_NUMBER = r"(?:\d+(?:\.\d+)*[.)]|\d+(?:\.\d+)+)"            # 3.1.2.  1)  1.2
_NUMBERED = re.compile(_NUMBER + r"[ \t]+\S")
_Q = re.compile(r"Q:[ \t]*\S")
ANSWER_PREFIX = re.compile(r"A:[ \t]?")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")

QUESTION_WORDS = ("how what why when where which who is are can could should do does did will "
                  "would may has have").split()
_QWORD = re.compile(rf"(?:{'|'.join(QUESTION_WORDS)})\s", re.I)
_TRAILING = re.compile(r"[\s.:;,!)\]\"'*`]+$")

# Levels of the styles that have no rank of their own: below every underlined or ATX heading.
NUMBERED_LEVEL, QA_LEVEL = 100, 1000


@dataclass
class Heading:
    start: int          # 0-based index of the heading's first line (an overline if there is one)
    end: int            # index of the first line after the heading
    kind: str           # rst | atx | setext | numbered | qa
    level: int          # smaller is higher; rST levels are ranked by first appearance
    raw: str            # the source line(s) without adornment lines, wrapped lines joined
    title: str = ""     # cleaned text: markup, numbering and ``Q:`` removed
    question: bool = False
    absorbed: bool = False
    section: list[str] = field(default_factory=list)


def is_question(title: str) -> bool:
    """Ends with ``?`` (before trailing punctuation/quotes) or starts with a question word."""
    return _TRAILING.sub("", title).endswith("?") or bool(_QWORD.match(title))


def clean_title(text: str) -> str:
    """A heading's text as a question: numbering, ``Q:``, inline markup and trailing ``:`` off."""
    text = re.sub(r"^(?:" + _NUMBER + r"|Q:)[ \t]+", "", text.strip())
    return " ".join(inline(text, answer=False).split()).rstrip(":").rstrip()


def find_headings(lines: list[str], markdown: bool) -> list[Heading]:
    """All headings, in order; see the module docstring of :mod:`curate.convert.docs`."""
    n, out, ranks, fence = len(lines), [], {}, None

    def blank(k: int) -> bool:
        return k < 0 or k >= n or not lines[k].strip()

    def adorned(key: tuple, start: int, end: int, raw: str) -> Heading:
        if markdown:
            level = 1 if key[0] == "=" else 2
        else:
            level = ranks.setdefault(key, len(ranks) + 1)
        return Heading(start, end, "setext" if markdown else "rst", level, raw)

    i = 0
    while i < n:
        line, head = lines[i], None
        if markdown:
            f = _FENCE.match(line)
            if fence:
                if f and f.group(1)[0] == fence[0] and len(f.group(1)) >= len(fence) \
                        and not line.strip().strip(fence[0]):
                    fence = None
                i += 1
                continue
            if f:
                fence = f.group(1)
                i += 1
                continue
        under = _MD_UNDER if markdown else _ADORN
        nxt = lines[i + 1] if i + 1 < n else ""
        if (not markdown and blank(i - 1) and _ADORN.match(line) and i + 2 < n
                and lines[i + 2] == line and nxt.strip() and len(nxt.strip()) <= len(line)):
            head = adorned((line[0], True), i, i + 3, nxt.strip())           # over- and underline
        elif (blank(i - 1) and line.strip() and line[0] != " " and not under.match(line)
              and not _ATX.fullmatch(line) and under.match(nxt)
              and (markdown or len(nxt) >= len(line))):
            head = adorned((nxt[0], False), i, i + 2, line.strip())          # underline
        elif (not markdown and blank(i - 1) and line.strip() and line[0] != " " and nxt.strip()
              and nxt[0] != " " and not _ADORN.match(line) and not _ADORN.match(nxt)
              and i + 2 < n and _ADORN.match(lines[i + 2])
              and len(lines[i + 2]) >= len(line + " " + nxt.strip())):
            head = adorned((lines[i + 2][0], False), i, i + 3,              # title wrapped over
                           line.strip() + " " + nxt.strip())               # two lines
        elif m := _ATX.fullmatch(line):
            head = Heading(i, i + 1, "atx", len(m.group(1)), line.strip())
        elif _Q.match(line):
            j, raw = i + 1, line.strip()
            while (not raw.endswith("?") and j < n and lines[j].strip()
                   and not ANSWER_PREFIX.match(lines[j])):
                raw, j = raw + " " + lines[j].strip(), j + 1
            head = Heading(i, j, "qa", QA_LEVEL, raw, question=True)
        elif (_NUMBERED.match(line) and blank(i - 1) and blank(i + 1)
              and is_question(clean_title(line))):
            depth = len(re.findall(r"\d+", line.split()[0]))
            head = Heading(i, i + 1, "numbered", NUMBERED_LEVEL + depth, line.strip())
        if head is None:
            i += 1
            continue
        head.title = clean_title(head.raw if head.kind != "atx" else _ATX.fullmatch(line)[2])
        head.question = head.question or is_question(head.title)
        out.append(head)
        i = head.end
    return out


# --- inline markup --------------------------------------------------------------------------

_LITERAL = re.compile(r"``(.+?)``", re.S)
_ROLE = re.compile(r":((?:[\w-]+:)?[\w-]+):`([^`]+)`", re.S)
_LINK = re.compile(r"`([^`<]*?)\s*<([^<>`]+)>`__?", re.S)
_REF = re.compile(r"`([^`]+)`__?(?!\w)")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_FOOTNOTE = re.compile(r"\s?\[(?:#[\w-]*|\d+|\*)\]_")
_STRONG = re.compile(r"(?<![\w*\\])\*\*(\S|\S.*?\S)\*\*(?![\w*])", re.S)
_EMPH = re.compile(r"(?<![\w*\\])\*(\S|\S[^*]*?\S)\*(?![\w*])", re.S)
_PLAIN_ROLES = {"ref", "doc", "term", "abbr", "dfn", "any", "numref", "menuselection",
                "guilabel", "emphasis", "strong", "title-reference", "sub", "sup", "math"}


def _role(m: re.Match, answer: bool) -> str:
    role, text = m.group(1).split(":")[-1], m.group(2)
    titled = re.fullmatch(r"(.*?)\s*<([^<>]+)>", text, re.S)
    if titled and titled.group(1):
        return titled.group(1)                      # :ref:`text <target>` -> text
    text = text.lstrip("!")
    if text.startswith("~"):
        text = text[1:].rsplit(".", 1)[-1]          # :meth:`~str.join` -> join
    if role in ("pep", "rfc"):
        return f"{role.upper()} {text}"
    return f"`{text}`" if answer and role not in _PLAIN_ROLES else text


def inline(text: str, answer: bool) -> str:
    """rST inline markup as text: ``code`` -> `code`, roles -> their text (`code` in answers
    for code roles such as :func:), *emph*/**strong** -> plain, links -> their text (Markdown
    ``[text](url)`` in answers), footnote references dropped. Literal text is left alone."""
    kept: list[str] = []
    text = text.replace("\x00", "")

    def keep(s: str) -> str:
        kept.append(s)
        return f"\x00{len(kept) - 1}\x00"

    text = _LITERAL.sub(lambda m: keep(f"`{m.group(1)}`"), text)
    text = _ROLE.sub(lambda m: keep(_role(m, answer)), text)

    def link(m: re.Match) -> str:
        label, url = m.group(1) or m.group(2), m.group(2)
        return keep(f"[{label}]({url})" if answer and label != url else label)

    text = _LINK.sub(link, text)
    text = _REF.sub(lambda m: keep(m.group(1)), text)
    if not answer:
        text = _MD_LINK.sub(lambda m: keep(m.group(1)), text)
    text = _FOOTNOTE.sub("", text)
    text = _STRONG.sub(r"\1", text)
    text = _EMPH.sub(r"\1", text)
    while "\x00" in text:
        text = re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)
    return text
