"""The benchmarks' word n-grams as sorted 64-bit hashes, and the search of record texts in them.

Built once per run from the benchmark texts (:func:`build_index`), the index is two tables:

- ``grams``: the hash of every ``ngram``-word window of every benchmark text (one entry per
  distinct hash, with the bit mask of the benchmarks that have it);
- ``short``: for each benchmark text of ``min_words`` to ``ngram - 1`` words (too short for one
  full n-gram), the hash of its first ``min_words`` words as the key and the hash of the whole
  text beside it: a record text contains the short item when a window of it has the key and
  the window of the item's length from there has the whole-text hash;
- ``whole``: the hash of each benchmark text of ``WHOLE_MIN`` to ``min_words - 1`` words, which
  counts only when a whole record turn is that text (a few words inside a longer text, such
  as "write test" or "yes", say nothing).

:meth:`NgramIndex.find` scans a batch of record texts (a polars or Arrow string array) in one
compiled pass (:mod:`.scan`: the window hashes of :mod:`.grams`, rolled), drops most windows
with a bit table indexed by the top bits of the hash (under 1% get through), looks the rest up
by binary search, and checks each hit word by word against the benchmark text it points to
(:mod:`.verify`, compiled too), so a hash collision never counts as contamination. The index is
numpy arrays and one byte buffer of the benchmark texts: it pickles compactly to Ray workers;
the bit tables are rebuilt where it lands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from ..errors import StageError
from .grams import Prefix, inside
from .scan import Probe, bitset, scan, word_hashes
from .verify import same_words
from .words import Words, raw_bytes, text_bytes, word_spans

FORMAT = 3  # of the cache file (3: word hashes from 8-byte loads, .scan)
WHOLE_MIN = 2  # words: a one-word benchmark text ("Yes", "Paris") is never matched
_EMPTY = np.zeros(0, np.uint64)


@dataclass
class Table:
    """Sorted keys and, per entry, the benchmark mask and the benchmark words it stands for
    (``length`` words of text ``text`` from word ``start``); ``full`` is the whole-text hash of
    a short item."""

    keys: np.ndarray
    masks: np.ndarray
    text: np.ndarray
    start: np.ndarray
    length: np.ndarray
    full: np.ndarray = field(default_factory=lambda: _EMPTY)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}_{k}": v for k, v in vars(self).items()}

    @classmethod
    def from_arrays(cls, prefix: str, arrays) -> Table:
        return cls(**{k: arrays[f"{prefix}_{k}"] for k in cls.__dataclass_fields__})


def _shift(keys: np.ndarray) -> np.uint64:
    """The shift that leaves the bits of a key's slot in its bit filter: about 256 slots per
    key (0.4% of misses get through to a binary search; 2**28 bits at most)."""
    bits = min(max(int(keys.shape[0]).bit_length() + 8, 10), 28)
    return np.uint64(64 - bits)


@dataclass
class Hit:
    """The first checked match of one record text: its benchmarks and the words matched."""

    mask: int
    span: str


class NgramIndex:
    """See the module docs. ``names`` are the benchmarks (bit ``i`` of a mask is ``names[i]``)."""

    TABLES = ("grams", "short", "whole")

    def __init__(self, names: list[str], ngram: int, min_words: int, tables: dict[str, Table],
                 bench: Words, counts: dict[str, dict[str, int]]):
        self.names, self.ngram, self.min_words = names, ngram, min_words
        self.grams, self.short, self.whole = (tables[t] for t in self.TABLES)
        self.bench, self.counts = bench, counts
        self._probed: Probe | None = None

    # -- pickling: the bit filters are rebuilt where the index lands ----------------------
    def __getstate__(self):
        state = dict(self.__dict__)
        state["_probed"] = None
        return state

    def nbytes(self) -> int:
        arrays = [a for t in self.TABLES for a in vars(getattr(self, t)).values()]
        arrays += [self.bench.data, self.bench.starts, self.bench.ends, self.bench.first]
        return int(sum(a.nbytes for a in arrays))

    def names_of(self, mask: int) -> list[str]:
        return [n for i, n in enumerate(self.names) if mask >> i & 1]

    # -- search ---------------------------------------------------------------------------
    def _probe(self) -> Probe:
        if self._probed is None:
            g_shift, s_shift = _shift(self.grams.keys), _shift(self.short.keys)
            self._probed = Probe(
                self.ngram, bitset(self.grams.keys, g_shift), g_shift, self.grams.keys,
                self.min_words, bitset(self.short.keys, s_shift), s_shift,
                self.short.keys, self.short.full, self.short.length, WHOLE_MIN, self.whole.keys)
        return self._probed

    def find(self, texts: pl.Series | pa.Array) -> dict[int, Hit]:
        """The texts (by position; a polars or Arrow string array) that contain a benchmark
        n-gram or short item, each with every benchmark matched and its first matched words."""
        raw = raw_bytes(texts)
        cand, wide = scan(raw.data, raw.offsets, False, self._probe())
        found = [cand[self._checked(raw.data, raw.offsets, False, cand)]]
        if wide.any():  # texts the fold table cannot take: normalised whole, then scanned
            rows = np.flatnonzero(wide)
            norm = text_bytes(_take(texts, rows))
            more, _ = scan(norm.data, norm.offsets, True, self._probe())
            more = more[self._checked(norm.data, norm.offsets, True, more)]
            more[:, 0] = rows[more[:, 0]]
            found.append(more)
        cand = np.concatenate(found)
        if cand.shape[0] == 0:
            return {}
        # per text: every benchmark matched, and the words of its first hit (the lowest
        # benchmark mask first where two hits start at one word)
        text, pos = cand[:, 0], cand[:, 1]
        masks, bench_word, length = self._entries(cand)
        order = np.lexsort((np.arange(text.shape[0]), masks, pos, text))
        text, masks, bench_word, length = (a[order] for a in (text, masks, bench_word, length))
        first = np.flatnonzero(np.concatenate([[True], text[1:] != text[:-1]]))
        merged = np.bitwise_or.reduceat(masks, first)
        return {int(text[k]): Hit(int(m), self.bench.span(int(bench_word[k]), int(length[k])))
                for k, m in zip(first.tolist(), merged.tolist())}

    def _entries(self, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per candidate (rows of :func:`.scan.scan`): its benchmark mask, and the benchmark
        words it stands for (first word in ``bench``, count)."""
        table, entry = cand[:, 2], cand[:, 3]
        masks = np.zeros(cand.shape[0], self.grams.masks.dtype)
        bench_word = np.zeros(cand.shape[0], np.int64)
        length = np.zeros(cand.shape[0], np.int64)
        for i, name in enumerate(self.TABLES):
            mine = table == i
            t, e = getattr(self, name), entry[mine]
            masks[mine] = t.masks[e]
            bench_word[mine] = self.bench.first[t.text[e]] + t.start[e]
            length[mine] = t.length[e]
        return masks, bench_word, length

    def _checked(self, data: np.ndarray, offsets: np.ndarray, normalised: bool,
                 cand: np.ndarray) -> np.ndarray:
        """Which candidates' words are their benchmark words (a hash collision is not)."""
        _, bench_word, length = self._entries(cand)
        return same_words(data, offsets, normalised, cand[:, 0], cand[:, 1], bench_word, length,
                          self.bench)

    # -- the cache file -------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"format": FORMAT, "names": self.names, "ngram": self.ngram,
                           "min_words": self.min_words, "counts": self.counts})
        tmp = path.with_suffix(".tmp.npz")
        tables = {k: v for t in self.TABLES for k, v in getattr(self, t).arrays(t).items()}
        np.savez(tmp, meta=np.array(meta), **tables, bench_data=self.bench.data,
                 bench_starts=self.bench.starts, bench_ends=self.bench.ends,
                 bench_first=self.bench.first)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> NgramIndex | None:
        """The index saved at ``path``; None if there is none or it is of another format."""
        try:
            arrays = np.load(path, allow_pickle=False)
            meta = json.loads(str(arrays["meta"]))
        except (OSError, ValueError, KeyError):
            return None
        if meta.get("format") != FORMAT:
            return None
        bench = Words(arrays["bench_data"], arrays["bench_starts"], arrays["bench_ends"],
                      arrays["bench_first"], _EMPTY)
        return cls(meta["names"], meta["ngram"], meta["min_words"],
                   {t: Table.from_arrays(t, arrays) for t in cls.TABLES}, bench, meta["counts"])


def _take(texts: pl.Series | pa.Array, rows: np.ndarray) -> pl.Series:
    """The texts at ``rows``, as a polars Series."""
    if isinstance(texts, pa.Array):
        return pl.Series(texts.take(pa.array(rows)), dtype=pl.String)
    return texts.gather(rows)


def _mask_dtype(benchmarks: int):
    if benchmarks > 64:
        raise StageError(f"{benchmarks} benchmarks: at most 64 can be checked in one stage")
    return np.uint64


def _merged(keys: np.ndarray, masks: np.ndarray, *others: np.ndarray, by=None):
    """Entries sorted by key (then ``by``), equal (key, by) merged: masks or-ed, the first
    entry's other arrays kept."""
    order = np.lexsort((by, keys)) if by is not None else np.argsort(keys, kind="stable")
    keys, masks = keys[order], masks[order]
    same = keys[1:] == keys[:-1]
    if by is not None:
        by = by[order]
        same &= by[1:] == by[:-1]
    first = np.flatnonzero(np.concatenate([[True], ~same])) if keys.size else np.zeros(0, int)
    merged = np.bitwise_or.reduceat(masks, first) if keys.size else masks
    out = [keys[first], merged] + [o[order][first] for o in others]
    if by is not None:
        out.append(by[first])
    return out


def build_index(names: list[str], texts_per_benchmark: list[list[str]], *, ngram: int,
                min_words: int) -> NgramIndex:
    """The index of the benchmarks' texts (see the module docs)."""
    dtype = _mask_dtype(len(names))
    texts = [t for texts in texts_per_benchmark for t in texts]
    owner = np.repeat(np.arange(len(names)), [len(t) for t in texts_per_benchmark])
    norm = text_bytes(pl.Series(texts, dtype=pl.String))
    bench = word_spans(norm, hashed=False)
    hashes = word_hashes(norm.data, norm.offsets, True)[0]  # as :func:`.scan.scan` hashes
    counts = bench.counts()
    prefix = Prefix(hashes)
    total = hashes.shape[0]

    windows = prefix.windows(ngram)
    pos = np.flatnonzero(inside(bench.first, ngram, total)) if windows.size else windows
    text = np.searchsorted(bench.first, pos, side="right") - 1
    keys, masks, g_text, g_pos = _merged(
        windows[pos] if pos.size else _EMPTY,
        (dtype(1) << owner[text].astype(dtype)) if pos.size else np.zeros(0, dtype),
        text.astype(np.int32), pos.astype(np.int64))
    grams = Table(keys, masks, g_text, (g_pos - bench.first[g_text]).astype(np.int32),
                  np.full(keys.shape[0], ngram, np.int32))

    short = np.flatnonzero((counts >= min_words) & (counts < ngram))
    s_keys = prefix.at(bench.first[short], np.full(short.shape[0], min_words))
    s_full = prefix.at(bench.first[short], counts[short])
    keys, masks, s_text, full = _merged(s_keys, dtype(1) << owner[short].astype(dtype),
                                        short.astype(np.int32), by=s_full)
    short_table = Table(keys, masks, s_text, np.zeros(keys.shape[0], np.int32),
                        counts[s_text].astype(np.int32), full)

    whole = np.flatnonzero((counts >= WHOLE_MIN) & (counts < min_words))
    keys, masks, w_text = _merged(prefix.at(bench.first[whole], counts[whole]),
                                  dtype(1) << owner[whole].astype(dtype), whole.astype(np.int32))
    whole_table = Table(keys, masks, w_text, np.zeros(keys.shape[0], np.int32),
                        counts[w_text].astype(np.int32))

    stats = {}
    for i, name in enumerate(names):
        mine = counts[owner == i]
        stats[name] = {"texts": int(mine.shape[0]),
                       "ngrams": int(np.maximum(mine - ngram + 1, 0).sum()),
                       "short_texts": int(((mine >= min_words) & (mine < ngram)).sum()),
                       "whole_turn_texts": int(((mine >= WHOLE_MIN) & (mine < min_words)).sum()),
                       "too_short": int((mine < WHOLE_MIN).sum())}
    bench.starts, bench.ends = bench.starts.astype(np.int64), bench.ends.astype(np.int64)
    return NgramIndex(list(names), ngram, min_words,
                      {"grams": grams, "short": short_table, "whole": whole_table}, bench, stats)
