"""The ``docs`` converter: raw documents (FAQ pages, docs with question headings) -> SFT records.

Every section that has a heading is one input row: a question heading with a non-empty body becomes
``user: <question>`` / ``assistant: <answer>``; any other heading is ``RowError("not_a_question")``
and a question with nothing under it is ``RowError("empty_answer")``. Text before the first
heading is not a row.

Markdown or rST: ``.md``/``.markdown`` files are Markdown, ``.rst``/``.rst.txt`` files rST; any
other file (``.txt``) is Markdown when a line starts with a code fence or an ATX ``# `` heading,
else rST/plain text. Headings recognised:

- rST titles: a single line under a blank line, with an underline (and optional identical
  overline) of one repeated character of ``= - ~ ^ " ' * + # : . _ ``` ``, 3+ long and at least as
  long as the title; levels ranked by first appearance of each style, as docutils does (an
  overlined style is distinct from the same underline). A title wrapped over two lines is taken
  when the underline is as long as both lines joined with a space. Markdown files: setext ``===``
  (level 1) and ``---`` (level 2) underlines of 3+ characters instead.
- Markdown ATX ``#``..``######`` at the start of a line (level = number of ``#``), in both kinds of
  file; fenced code (```` ``` ````/``~~~``) in Markdown files is skipped.
- Numbered questions alone on a line between blank lines: ``3.1.2. Why ...?``, ``1) What ...?``,
  ``1.2 How ...?``. Only lines that are questions count (a numbered list stays in the answer).
  They nest below every underlined/ATX heading, deeper by number depth.
- FAQ pairs: a line starting ``Q:`` (wrapped lines joined until one ends with ``?``, a blank line or
  an ``A:`` line) is always a question; its answer is what follows, with the ``A:`` prefix removed.

A heading is a question when its cleaned text ends with ``?`` (ignoring trailing punctuation and
quotes) or starts with one of the words in ``QUESTION_WORDS`` followed by a space (``What's new``
is not a question, ``How to install`` is).

Hierarchy: a question's answer runs to the next heading that is a question (at any depth) or is at
the same or a higher level. A deeper non-question heading inside it (``Example``, ``Notes``) is
*absorbed*: its title stays in the answer as a line of text and it is not a row of its own. A
question directly followed by a deeper question therefore has an empty answer.

Cleaning: ``\\r\\n``, non-breaking spaces and BOMs as in :func:`curate.convert.common.clean`; tabs
expanded; trailing spaces removed. Questions: numbering, ``Q:``, rST inline markup (roles -> their
text, ````code```` -> `code`, emphasis and links -> text) and trailing ``:``/``::`` removed; white
space collapsed. rST answers: comments, ``.. _label:`` targets and directives such as ``contents``,
``toctree``, ``index``, ``highlight``, ``testsetup`` dropped with their indented block; ``only``
and admonitions (``note`` -> ``Note: ...``, ``versionchanged:: 3.3`` -> ``Changed in version 3.3:
...``) unwrapped; code directives (``code-block``, ``doctest``, ``testcode``...) and ``::``
literal blocks kept as indented code; a paragraph's trailing ``::`` becomes ``:`` (`` ::`` and a
lone ``::`` vanish); inline markup as in questions except that code roles become `code` and links
``[text](url)``. Markdown answers are kept as written. Line breaks inside paragraphs are kept,
runs of blank lines become one, the answer is dedented and stripped.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import PurePath

from ..errors import RowError
from ..io import Document
from .common import clean
from .docs_headings import ANSWER_PREFIX, QUESTION_WORDS, Heading, find_headings, inline

__all__ = ["doc_to_records", "QUESTION_WORDS"]

_EXPLICIT = re.compile(r"( *)\.\.(?: +(.*))?$")
_DIRECTIVE = re.compile(r"([\w:-]+)::(?: +(.*))?$")
_OPTION = re.compile(r" *:[\w-]+:(?: |$)")
_ITEM = re.compile(r" *(?:[-*+] +|(?:\d+|#|[a-zA-Z])[.)] +|\(\d+\) +)?")
_MD_HINT = re.compile(r"^(?:```|~~~|#{1,6} +\S)", re.M)
_CODE = {"code-block", "code", "sourcecode", "doctest", "testcode", "testoutput", "literalinclude"}
_UNWRAP = {"only": "", "container": "", "note": "Note:", "warning": "Warning:", "tip": "Tip:",
           "hint": "Hint:", "important": "Important:", "caution": "Caution:",
           "attention": "Attention:", "danger": "Danger:", "error": "Error:",
           "seealso": "See also:", "versionadded": "Added in version {}:",
           "versionchanged": "Changed in version {}:", "deprecated": "Deprecated since version {}:"}


def doc_to_records(doc: Document) -> list[tuple[int, dict | RowError]]:
    """One ``(line, record or RowError)`` per section of ``doc`` (line: 1-based heading line)."""
    markdown = doc.markdown or is_markdown(doc.file, doc.text)
    tab = 4 if markdown else 8
    lines = [line.expandtabs(tab).rstrip() for line in clean(doc.text).split("\n")]
    heads = find_headings(lines, markdown)
    _structure(heads)
    name = PurePath(doc.file).name
    rows: list[tuple[Heading, list[Heading]]] = []      # each row with the headings it absorbs
    for h in heads:
        if h.absorbed:
            rows[-1][1].append(h)
        else:
            rows.append((h, []))
    out: list[tuple[int, dict | RowError]] = []
    for k, (h, absorbed) in enumerate(rows):
        if not h.question:
            out.append((h.start + 1, RowError(
                "not_a_question", f"heading {h.title!r} is not a question", field="heading")))
            continue
        stop = rows[k + 1][0].start if k + 1 < len(rows) else len(lines)
        answer = _answer(lines, h, absorbed, stop, markdown)
        if not answer:
            out.append((h.start + 1, RowError(
                "empty_answer", f"question {h.title!r} has no answer text", field="answer")))
            continue
        meta = {"file": name, "line": h.start + 1, "format": "docs", "section": h.section,
                "heading": h.raw}
        out.append((h.start + 1, {
            "kind": "sft",
            "messages": [{"role": "user", "content": h.title},
                         {"role": "assistant", "content": answer}],
            "source": name, "meta": meta}))
    return out


def is_markdown(file: str, text: str) -> bool:
    """``.md``/``.markdown``; or another non-rST file with a fence or ``#`` heading in it."""
    suffixes = [s.lower() for s in PurePath(file).suffixes]
    if suffixes[-1:] and suffixes[-1] in (".md", ".markdown"):
        return True
    return ".rst" not in suffixes and bool(_MD_HINT.search(text))


def _structure(heads: list[Heading]) -> None:
    """Set each heading's enclosing titles and whether a question above absorbs it."""
    stack: list[Heading] = []
    open_q: Heading | None = None
    for h in heads:
        while stack and stack[-1].level >= h.level:
            stack.pop()
        h.section = [s.title for s in stack]
        stack.append(h)
        if open_q is not None and not h.question and h.level > open_q.level:
            h.absorbed = True
        else:
            open_q = h if h.question else None


def _answer(lines: list[str], h: Heading, absorbed: list[Heading], stop: int,
            markdown: bool) -> str:
    body, i = [], h.end
    for a in absorbed:                      # absorbed headings: their title as a line of text
        body += lines[i:a.start] + (lines[a.start:a.end] if markdown else ["", a.raw, ""])
        i = a.end
    body += lines[i:stop]
    while body and not body[0].strip():
        body.pop(0)
    if h.kind == "qa" and body and (m := ANSWER_PREFIX.match(body[0])):
        body[0] = " " * m.end() + body[0][m.end():]
        body = textwrap.dedent("\n".join(body)).split("\n")
        body[0] = body[0].lstrip()
    text = "\n".join(body) if markdown else "\n\n".join(_render(body))
    return textwrap.dedent(text).strip("\n").rstrip()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block_end(lines: list[str], j: int, indent: int) -> int:
    """End of the block from ``j`` of blank lines and lines indented more than ``indent``."""
    start = j
    while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > indent):
        j += 1
    while j > start and not lines[j - 1].strip():
        j -= 1
    return j


def _render(lines: list[str]) -> list[str]:
    """rST body lines as chunks (paragraphs or code blocks) to be joined by blank lines."""
    chunks: list[str] = []
    i, n, literal = 0, len(lines), None     # literal: indent of a paragraph that ended in ::
    while i < n:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        indent = _indent(line)
        if literal is not None:
            if indent > literal:
                j = _block_end(lines, i, literal)
                chunks.append("\n".join(lines[i:j]))
                i, literal = j, None
                continue
            literal = None
        if m := _EXPLICIT.match(line):
            j = _block_end(lines, i + 1, indent)
            chunks += _directive(m.group(2) or "", lines[i + 1:j])
            i = j
            continue
        j = i
        while j < n and lines[j].strip():
            j += 1
        para, i = lines[i:j], j
        if para[0].lstrip().startswith(">>>"):              # doctest block
            chunks.append("\n".join(para))
            continue
        if para[-1].endswith("::"):                         # its text column (list items!)
            literal, head = _ITEM.match(para[0]).end(), para[-1][:-2]
            if not head.strip():
                para.pop()                                  # a lone "::"
            else:
                para[-1] = head.rstrip() if head.endswith(" ") else head + ":"
        if para:
            chunks.append(inline("\n".join(para), answer=True))
    return chunks


def _directive(text: str, body: list[str]) -> list[str]:
    """What an explicit markup block contributes to the answer (comments and targets: nothing)."""
    d = _DIRECTIVE.match(text)
    if not d:
        return []
    name, arg = d.group(1), d.group(2) or ""
    while body and _OPTION.match(body[0]):
        body = body[1:]
    while body and not body[0].strip():
        body = body[1:]
    if name in _CODE:
        return ["\n".join(body)] if body else []
    if name not in _UNWRAP:
        return []
    prefix = _UNWRAP[name]
    if "{}" in prefix:
        version, _, arg = arg.partition(" ")
        prefix = prefix.format(version)
    content = textwrap.dedent("\n".join(body)).split("\n") if body else []
    if arg and name not in ("only", "container"):
        content = [arg] + content
    chunks = _render(content)
    if prefix and chunks:
        if chunks[0][:1].isspace():
            chunks.insert(0, prefix)
        else:
            chunks[0] = f"{prefix} {chunks[0]}"
    return chunks
