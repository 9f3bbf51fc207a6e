"""Per-character normalisation of the Basic Multilingual Plane, for texts searched byte by byte.

The words of :mod:`.words` come from a whole-text pipeline: lower case, NFKC, lower case, then
every non-ASCII character that is not a word character (``\\w``) made a space. For most
characters that pipeline acts on each character alone, so a table can stand in for it: the
character's folded form (one code point) or a separator. It does not act alone where

- lower case depends on the neighbours (``Σ`` at the end of a word) or gives two characters;
- NFKC gives more than one character, or could compose the character with its neighbour: a
  combining mark, or a character that is the second of a canonical composition (Hangul vowel
  and final jamo, some Indic vowel signs), itself or as the first character of its
  decomposition.

Those are ``COMPLEX``: a text with one goes through the whole-text pipeline instead. The table
is computed with the same polars calls as the pipeline (so both agree on the Unicode version),
once per process (about 0.3 s).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np
import polars as pl

SEPARATOR = -1  # not part of any word
COMPLEX = -2  # needs the whole-text pipeline
_FINAL_SIGMA = 0x3A3


@lru_cache(maxsize=1)
def composing_seconds() -> frozenset[int]:
    """Code points that are the second of a two-character canonical decomposition (so may
    compose with the character before them)."""
    out = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul V and T jamo
    for cp in range(0x110000):
        d = unicodedata.decomposition(chr(cp))
        if d and d[0] != "<":
            parts = d.split()
            if len(parts) == 2:
                out.add(int(parts[1], 16))
    return frozenset(out)


def _alone(ch: str, seconds: frozenset[int]) -> bool:
    """Whether NFKC cannot reorder or compose ``ch`` with a neighbour."""
    if unicodedata.category(ch) == "Cn" or unicodedata.combining(ch) or ord(ch) in seconds:
        return False
    first = unicodedata.normalize("NFKD", ch)[:1]
    return not (first and (unicodedata.combining(first) or ord(first) in seconds))


@lru_cache(maxsize=1)
def fold_table() -> np.ndarray:
    """int32 per BMP code point: its folded code point, ``SEPARATOR`` or ``COMPLEX``."""
    cps = [cp if not 0xD800 <= cp < 0xE000 else 0x20 for cp in range(0x10000)]
    chars = pl.Series([chr(cp) for cp in cps], dtype=pl.String)
    lower = chars.str.to_lowercase()
    folded = lower.str.normalize("NFKC").str.to_lowercase()
    word = folded.str.contains(r"^\w$")
    seconds = composing_seconds()
    table = np.full(0x10000, COMPLEX, np.int32)
    for cp, low, out, is_word in zip(cps, lower.to_list(), folded.to_list(), word.to_list()):
        if cp < 0x80:
            ch = chr(cp)
            table[cp] = ord(ch.lower()) if (ch.isascii() and (ch.isalnum() or ch == "_")) \
                else SEPARATOR
            continue
        if (cp != cps[cp] or cp == _FINAL_SIGMA or len(low) != 1 or len(out) != 1
                or out == "\u03a3" or not _alone(chr(cp), seconds) or not _alone(low, seconds)):
            continue
        o = ord(out)
        if o < 0x80:
            table[cp] = o if (out.isalnum() or out == "_") else SEPARATOR
        else:
            table[cp] = o if is_word else SEPARATOR
    return table
