"""Reading a judge's reply: a pairwise verdict (``A``, ``B``, ``tie`` or None) or rubric
scores per aspect.

Replies are read leniently, since small models rarely keep to the asked format: JSON first
(``{"winner": "A"}``, ``{"helpfulness": 7, ...}``), then the usual text forms (``[[A]]``,
``Response B is better``, ``A.``, ``Tie``; ``Helpfulness: 7/10``, ``- Honesty - 4``). What
cannot be read is None: the stage counts it as ``unparseable`` and it is no vote.

Examples:
    >>> pairwise_verdict("[[B]]"), pairwise_verdict("Response A is better."), pairwise_verdict("?")
    ('B', 'A', None)
    >>> rubric_scores("Helpfulness: 7/10\\nHonesty: 11", ["helpfulness", "honesty"], 10)
    {'helpfulness': 7.0, 'honesty': None}
"""

from __future__ import annotations

import re
from typing import Any

from ..llm.parse import json_object

A, B, TIE = "A", "B", "tie"
_JSON_KEYS = ("winner", "verdict", "better", "preference", "choice", "answer")
_BRACKETS = re.compile(r"\[\[\s*(A|B|C|tie)\s*\]\]", re.I)
_BETTER = re.compile(r"\b(?:response|assistant|output|answer)?\s*[(\"'“]?([AB])[)\"'”]?\s+"
                     r"(?:is|was)\s+"
                     r"(?:clearly\s+|much\s+|slightly\s+)?(?:better|more|preferred|superior)",
                     re.I)
_PREFER = re.compile(r"\b(?:prefer|choose|pick|winner(?: is)?:?|verdict:?|answer:?)\s+"
                     r"(?:response\s+|assistant\s+)?\(?([AB])\b\)?", re.I)
# a reply that starts with its verdict alone ("B", "A.", "**Tie**"), not "A good answer ..."
_LEAD = re.compile(r"^[\s*\"'`(\[]*(?:response\s+|assistant\s+|output\s+)?(A|B|tie|T)"
                   r"\s*(?:$|[.,:;!)\]*\"'`\n])", re.I)
_TIE_WORDS = re.compile(r"\b(?:tie|equally good|equally bad|both (?:are )?equal)\b", re.I)
_NUMBER = r"(\d+(?:\.\d+)?)\s*(?:/\s*(\d+))?"


def _letter(value: Any) -> str | None:
    text = str(value).strip().strip("[]().'\"*").lower()
    if text in ("a", "response a", "1", "output_1", "output 1"):
        return A
    if text in ("b", "response b", "2", "output_2", "output 2"):
        return B
    if text in ("tie", "t", "c", "equal", "draw", "none", "both"):
        return TIE
    return None


def pairwise_verdict(text: str | None) -> str | None:
    """``A`` (the response shown first won), ``B``, ``tie`` or None (not readable)."""
    text = (text or "").strip()
    if not text:
        return None
    data = json_object(text)
    if data is not None:
        for key, value in data.items():
            if key.lower() in _JSON_KEYS:
                return _letter(value)
    m = _BRACKETS.search(text)
    if m:
        return _letter(m.group(1))
    m = _LEAD.match(text)
    if m:
        return _letter(m.group(1))
    for pattern in (_BETTER, _PREFER):
        m = pattern.search(text)
        if m:
            return _letter(m.group(1))
    if _TIE_WORDS.search(text):
        return TIE
    return None


def _aspect_pattern(aspect: str) -> re.Pattern:
    words = r"[\s_-]*".join(re.escape(w) for w in re.split(r"[\s_-]+", aspect) if w)
    return re.compile(rf"\b{words}\b[^\d\n]{{0,20}}?{_NUMBER}", re.I)


def _in_scale(value: Any, out_of: Any, scale: int) -> float | None:
    try:
        score = float(value)
    except (TypeError, ValueError):
        return None
    if out_of not in (None, "") and int(out_of) != scale:
        score = score * scale / int(out_of) if int(out_of) > 0 else -1.0
    return score if 1 <= score <= scale else None


def rubric_scores(text: str | None, aspects: list[str], scale: int) -> dict[str, float | None]:
    """Each aspect's score on 1..``scale`` (a score given out of another maximum, ``8/10``
    on a 1-5 scale, is rescaled), None where the reply gives none or one out of range."""
    text = text or ""
    data = json_object(text)
    if data is not None:
        norm = {re.sub(r"[\s_-]+", "_", str(k).lower()): v for k, v in data.items()}
        return {a: _in_scale(norm.get(a), None, scale) for a in aspects}
    out: dict[str, float | None] = {}
    for aspect in aspects:
        m = _aspect_pattern(aspect).search(text)
        out[aspect] = _in_scale(m.group(1), m.group(2), scale) if m else None
    return out
