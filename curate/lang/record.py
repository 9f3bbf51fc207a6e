"""A record's languages: its main language and score, the language of its prompt and of its
reply, and whether it mixes languages.

The main language is the detector's answer on the prose of the whole record (code, URLs and
paths removed; the raw text where that leaves fewer than ``MIN_PROSE_LETTERS`` letters, e.g. a
reply that is only code). A record is mixed when another language holds at least
``mixed_share`` of its letters, counted over its paragraphs (blank-line separated, per turn) of
``UNIT_MIN_LETTERS`` letters or more that the detector names with probability
``UNIT_MIN_SCORE`` or more: short paragraphs ("Sure!", a heading) are too short to tell.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .detector import Detector
from .prose import letters, paragraphs, prose

MIN_PROSE_LETTERS = 20
UNIT_MIN_LETTERS = 40
UNIT_MIN_SCORE = 0.5


@dataclass
class RecordLanguages:
    lang: str | None = None          # main language (None: no letters at all)
    score: float | None = None       # the detector's probability of ``lang``
    prompt: str | None = None        # language of the prompt turns
    response: str | None = None      # language of the reply (the chosen one for a pair)
    languages: list[str] = field(default_factory=list)  # ``lang`` first, then the others
    mixed: bool = False


def _text(turns: list[str], cleaned: list[str]) -> str:
    text = "\n\n".join(cleaned)
    return text if letters(text) >= MIN_PROSE_LETTERS else "\n\n".join(turns)


def identify(parts: dict[str, list[str]], detector: Detector, *,
             mixed_share: float) -> RecordLanguages:
    """The languages of a record whose turns' texts are ``parts`` (``prompt``, ``response``
    and, for a pair, ``rejected``)."""
    cleaned = {name: [prose(t) for t in turns] for name, turns in parts.items()}
    every = [t for turns in parts.values() for t in turns]
    seen: dict[str, tuple[str | None, float | None]] = {}

    def detect(text: str) -> tuple[str | None, float | None]:
        # a one-paragraph reply is also its part's text, and often the record's
        if text not in seen:
            seen[text] = detector.detect(text)
        return seen[text]

    lang, score = detect(_text(every, [t for c in cleaned.values() for t in c]))
    if lang is None:
        return RecordLanguages()
    found = RecordLanguages(lang, score, languages=[lang])
    for name in ("prompt", "response"):
        if parts.get(name):
            setattr(found, name, detect(_text(parts[name], cleaned[name]))[0])
    shares: Counter[str] = Counter()
    units = [p for turns in cleaned.values() for t in turns for p in paragraphs(t)
             if letters(p) >= UNIT_MIN_LETTERS]
    if len(units) > 1:
        for unit in units:
            unit_lang, unit_score = detect(unit)
            shares[unit_lang if unit_score >= UNIT_MIN_SCORE else None] += letters(unit)
        total = sum(shares.values())
        found.languages += [u for u, n in shares.most_common()
                            if u is not None and u != lang and n / total >= mixed_share]
    found.mixed = len(found.languages) > 1
    return found
