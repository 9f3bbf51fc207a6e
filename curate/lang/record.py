"""A record's languages: its main language and score, the language of its prompt and of its
reply, and whether it mixes languages.

The record is read as paragraphs (per turn, blank-line separated) of prose: code, URLs and
paths removed (the raw text where that leaves fewer than ``MIN_PROSE_LETTERS`` letters, e.g. a
reply that is only code). Paragraphs of ``UNIT_MIN_LETTERS`` letters or more are long enough to
tell; each counts for the language the detector names with probability ``UNIT_MIN_SCORE`` or
more, by its letters.

- Main language (``lang``): with two such paragraphs or more in the prompt and the reply (the
  chosen one for a pair), the language with the most letters, and as ``score`` the
  letter-weighted probability the detector gives it over those paragraphs; else the
  detector's answer and probability on the prompt and reply as one text. (fastText on a whole
  text that mixes languages leans to the one with the most distinctive letters, not to the one
  with the most text.)
- Mixed: another language holds at least ``mixed_share`` of the letters of those paragraphs,
  a pair's rejected reply included.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .detector import Detector
from .prose import letters, paragraphs, prose

MIN_PROSE_LETTERS = 20
UNIT_MIN_LETTERS = 40
UNIT_MIN_SCORE = 0.5
OWN_PARTS = ("prompt", "response")  # a pair's rejected reply counts only towards mixing


@dataclass
class RecordLanguages:
    lang: str | None = None          # main language (None: no letters at all)
    score: float | None = None       # how sure the detector is of ``lang``
    prompt: str | None = None        # language of the prompt turns
    response: str | None = None      # language of the reply (the chosen one for a pair)
    languages: list[str] = field(default_factory=list)  # ``lang`` first, then the others
    mixed: bool = False


@dataclass
class _Units:
    """Letters per language (None: not sure) and probability mass, over paragraphs."""

    letters: Counter = field(default_factory=Counter)
    mass: Counter = field(default_factory=Counter)
    count: int = 0

    def add(self, lang: str | None, score: float, n: int) -> None:
        sure = lang if score >= UNIT_MIN_SCORE else None
        self.letters[sure] += n
        self.mass[lang] += score * n
        self.count += 1

    def main(self) -> tuple[str, float] | None:
        sure = [(n, lang) for lang, n in self.letters.items() if lang is not None]
        if self.count < 2 or not sure:
            return None
        lang = max(sure)[1]
        return lang, min(self.mass[lang] / sum(self.letters.values()), 1.0)


def _text(turns: list[str], cleaned: list[str]) -> str:
    text = "\n\n".join(cleaned)
    return text if letters(text) >= MIN_PROSE_LETTERS else "\n\n".join(turns)


def identify(parts: dict[str, list[str]], detector: Detector, *,
             mixed_share: float) -> RecordLanguages:
    """The languages of a record whose turns' texts are ``parts`` (``prompt``, ``response``
    and, for a pair, ``rejected``)."""
    cleaned = {name: [prose(t) for t in turns] for name, turns in parts.items()}
    seen: dict[str, tuple[str | None, float | None]] = {}

    def detect(text: str) -> tuple[str | None, float | None]:
        # a one-paragraph reply is also its part's text
        if text not in seen:
            seen[text] = detector.detect(text)
        return seen[text]

    own, every = _Units(), _Units()
    for name, turns in cleaned.items():
        for unit in (p for t in turns for p in paragraphs(t)):
            n = letters(unit)
            if n >= UNIT_MIN_LETTERS:
                lang, score = detect(unit)
                every.add(lang, score, n)
                if name in OWN_PARTS:
                    own.add(lang, score, n)
    names = [n for n in OWN_PARTS if parts.get(n)] or list(parts)
    main = own.main() or detect(_text([t for n in names for t in parts[n]],
                                      [t for n in names for t in cleaned[n]]))
    if main[0] is None:
        return RecordLanguages()
    found = RecordLanguages(*main, languages=[main[0]])
    for name in OWN_PARTS:
        if parts.get(name):
            setattr(found, name, detect(_text(parts[name], cleaned[name]))[0])
    total = sum(every.letters.values())
    if every.count > 1:
        found.languages += [u for u, n in every.letters.most_common()
                            if u is not None and u != found.lang and n / total >= mixed_share]
    found.mixed = len(found.languages) > 1
    return found
