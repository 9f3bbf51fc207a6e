"""Validated parsing of replies: what counts as a usable question, instruction or answer.

A reply is read as JSON first (a server that honours ``response_format`` sends
``{"questions": [...]}``), else as text: one item per line, list markers, numbering and
``Question:``-style labels removed.
"""

from __future__ import annotations

import json
import re

QUESTIONS_SCHEMA = {"type": "object", "additionalProperties": False,
                    "required": ["questions"],
                    "properties": {"questions": {"type": "array", "items": {"type": "string"}}}}
_MARKER = re.compile(r"^\s*(?:[-*•]+|\(?\d+[.)]|q\d*[.:)]|question\s*\d*\s*[:.)-])\s*", re.I)
_LABEL = re.compile(r"^(?:new |rewritten |evolved |the )?(?:instruction|prompt|question|answer)"
                    r"\s*:\s*", re.I)
MIN_WORDS = 3
_QUESTION_LABEL = re.compile(r"question\s*:\s+", re.I)


def json_object(text: str) -> dict | None:
    """The JSON object a reply holds (from its first ``{`` to its last ``}``), else None."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data = json.loads(text[start:end + 1])
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _json_items(text: str, key: str) -> list[str] | None:
    data = json_object(text)
    items = data.get(key) if data is not None else None
    if not isinstance(items, list):
        return None
    return [i for i in items if isinstance(i, str)]


def parse_questions(text: str, n: int) -> list[str]:
    """Up to ``n`` distinct questions in a reply: lines ending with ``?`` of at least
    ``MIN_WORDS`` words that start with a letter (after list markers and labels); from a line
    that quotes one (``What is the answer to the question: How ...?``), the quoted one."""
    items = _json_items(text, "questions")
    lines = items if items is not None else text.splitlines()
    out, seen = [], set()
    for line in lines:
        line = _LABEL.sub("", _MARKER.sub("", line.strip())).strip().strip('"*').strip()
        quoted = _QUESTION_LABEL.split(line)
        if len(quoted) > 1 and len(quoted[-1].split()) >= MIN_WORDS:
            line = quoted[-1].strip().strip('"').strip()
        if (not line.endswith("?") or len(line.split()) < MIN_WORDS
                or not line[:1].isalpha()):
            continue
        key = line.lower()
        if key not in seen:
            seen.add(key)
            out.append(line)
        if len(out) == n:
            break
    return out


def clean_reply(text: str) -> str:
    """A reply that should be one piece of text (an instruction, an answer): a leading label
    (``New instruction:``) and wrapping quotes removed."""
    text = _LABEL.sub("", text.strip()).strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text
