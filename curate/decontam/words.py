"""Many texts as normalised words, tokenised and hashed over their UTF-8 bytes at once.

The words are those of near dedup (:mod:`curate.stages.dedup_near`): NFKC, lower-cased, runs
of word characters (``\\w+``), so case, punctuation and white space never tell two texts apart.
Rather than one Python (or polars) string per word, a batch is one byte buffer: a byte is a
word byte when it is an ASCII letter, digit or ``_``, or any byte of a non-ASCII character
(texts with non-ASCII characters first get NFKC, lower case, and their non-word characters
replaced by spaces, so that every non-ASCII character left is a word character). A word's hash
is computed from 8-byte loads of its bytes, ASCII letters folded to lower case in the load.

    text_bytes(texts) -> TextBytes             the batch's normalised bytes and text offsets
    word_spans(tb) -> Words                    each word's byte span and each text's first word
    words.hashes                               uint64 per word
    words.words(i, n) -> list[bytes]           n words from word i, lower-cased
    words.span(i, n) -> str                    the same as one text (a matched span)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ..dedup.shingles import mix64
from ..text import nfkc

_WORD_RUN = re.compile(rb"[0-9A-Za-z_\x80-\xff]+")  # the word bytes of :func:`is_word_byte`
_NON_WORD_WIDE = r"[^\w\x00-\x7F]+"  # non-ASCII characters that are not word characters
_LOWER = np.uint64(0x2020202020202020)  # ASCII upper case -> lower case, 8 bytes at a time
# the first k bytes of an 8-byte load (k = 0..8), lower-cased
_KEEP = np.array([(1 << (8 * k)) - 1 for k in range(9)], np.uint64)
_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class TextBytes:
    """The normalised texts of a batch as one buffer: text ``i`` is
    ``data[offsets[i]:offsets[i + 1]]``."""

    data: np.ndarray     # uint8
    offsets: np.ndarray  # int64, len(texts) + 1


def normalize_wide(texts: pl.Series) -> pl.Series:
    """``texts`` (nulls as "") with the texts that have a non-ASCII character made NFKC, lower
    case, and their non-word non-ASCII characters spaces; ASCII texts are left as they are
    (their case is folded when words are hashed)."""
    texts = texts.fill_null("").cast(pl.String)
    wide = texts.str.contains(r"[^\x00-\x7F]")
    if not wide.any():
        return texts
    rows = wide.arg_true()
    folded = nfkc(texts.gather(rows).str.to_lowercase())
    return texts.scatter(rows, folded.str.replace_all(_NON_WORD_WIDE, " "))


def raw_bytes(texts: pl.Series | pa.Array) -> TextBytes:
    """The texts (a polars or Arrow string array; nulls as "") as they are, as one UTF-8
    buffer (no copy where the array allows)."""
    if isinstance(texts, pa.Array) and texts.null_count:
        texts = pc.fill_null(texts, "")
    arr = texts if isinstance(texts, pa.Array) else texts.fill_null("").cast(pl.String).to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], np.int64)[arr.offset:arr.offset + len(arr) + 1]
    raw = arr.buffers()[2]
    data = (np.frombuffer(raw, np.uint8) if raw is not None else np.zeros(0, np.uint8))
    return TextBytes(data[offsets[0]:offsets[-1]], offsets - offsets[0])


def text_bytes(texts: pl.Series) -> TextBytes:
    """The batch's normalised texts (:func:`normalize_wide`) as one UTF-8 buffer."""
    return raw_bytes(normalize_wide(texts))


def is_word_byte(data: np.ndarray) -> np.ndarray:
    """Whether each byte belongs to a word: ASCII ``[0-9A-Za-z_]`` or any non-ASCII byte."""
    letter = (data | np.uint8(0x20)) - np.uint8(ord("a")) < 26
    letter |= data - np.uint8(ord("0")) < 10
    letter |= data >= 0x80
    letter |= data == ord("_")
    return letter


@dataclass
class Words:
    """The words of a :class:`TextBytes`: word ``j`` is ``data[starts[j]:ends[j]]``; the words
    of text ``i`` are ``first[i]`` to ``first[i + 1]``."""

    data: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    first: np.ndarray
    hashes: np.ndarray

    def counts(self) -> np.ndarray:
        """Words per text."""
        return np.diff(self.first)

    def words(self, start: int, n: int) -> list[bytes]:
        """``n`` words from word ``start``, ASCII lower-cased (the rest is lower case already)."""
        return [self.data[s:e].tobytes().lower()
                for s, e in zip(self.starts[start:start + n], self.ends[start:start + n])]

    def span(self, start: int, n: int) -> str:
        """``n`` words from word ``start`` as text: lower-cased, one space between words."""
        if n <= 0:
            return ""
        text = self.data[self.starts[start]:self.ends[start + n - 1]].tobytes().lower()
        return b" ".join(_WORD_RUN.findall(text)).decode("utf-8", "replace")


def word_spans(tb: TextBytes, hashed: bool = True) -> Words:
    """Every word of every text, with its hash (see the module docs; none unless ``hashed``)."""
    data, offsets = tb.data, tb.offsets
    n = data.shape[0]
    edge = np.zeros(n + 2, bool)
    edge[1:-1] = is_word_byte(data)
    inside = edge[1:-1]
    bounds = np.flatnonzero(edge[1:] != edge[:-1])
    starts, ends = bounds[0::2], bounds[1::2]
    # two texts side by side whose words touch: cut the run where one text ends
    inner = offsets[1:-1]
    cut = inner[(inner > 0) & (inner < n)]
    cut = np.unique(cut[inside[cut - 1] & inside[cut]])
    if cut.size:
        starts = np.insert(starts, np.searchsorted(starts, cut), cut)
        ends = np.insert(ends, np.searchsorted(ends, cut), cut)
    first = np.searchsorted(starts, offsets).astype(np.int64)
    hashes = _hash_words(data, starts, ends) if hashed else np.zeros(0, np.uint64)
    return Words(data, starts, ends, first, hashes)


def _masked(load: np.ndarray, left: np.ndarray) -> np.ndarray:
    """An 8-byte load keeping its first ``left`` bytes (all 8 when ``left >= 8``), lower-cased."""
    load |= _LOWER
    load &= _KEEP[np.minimum(left, 8)]
    return load


def _hash_words(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each word's bytes (ASCII case folded), from unaligned 8-byte loads:
    the first 8 bytes, mixed with the next 8 (and so on) for longer words, then multiplied by
    an odd constant and folded (enough mixing for the top bits the index filters on)."""
    padded = np.zeros(data.shape[0] + 8, np.uint8)
    padded[:data.shape[0]] = data
    loads = np.ndarray((data.shape[0] + 1,), dtype="<u8", buffer=padded.data, strides=(1,))
    lens = ends - starts
    with np.errstate(over="ignore"):
        h = _masked(loads[starts], lens)
        longer = np.flatnonzero(lens > 8)
        k = 1
        while longer.size:  # the next 8 bytes of the words that have them
            left = lens[longer] - 8 * k
            h[longer] = mix64(h[longer]) ^ _masked(loads[starts[longer] + 8 * k], left)
            longer = longer[left > 8]
            k += 1
        h *= _MIX
        h ^= h >> np.uint64(29)
        h *= _MIX
    return h
