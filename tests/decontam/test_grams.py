import numpy as np
import polars as pl

from curate.decontam.grams import Prefix, inside
from curate.decontam.words import text_bytes, word_spans


def rolled(h: np.ndarray, n: int) -> np.ndarray:
    """The reference: the polynomial hash of each window, one multiply-add at a time."""
    p = np.uint64(0x100000001B3)
    out = h[:len(h) - n + 1].copy()
    with np.errstate(over="ignore"):
        for k in range(1, n):
            out = out * p + h[k:k + len(out)]
    return out


def test_prefix_windows_equal_the_rolling_polynomial_for_every_n():
    h = np.random.default_rng(0).integers(0, 2**63, 200, dtype=np.uint64) * np.uint64(2) + 1
    prefix = Prefix(h)
    for n in (1, 2, 5, 13):
        assert np.array_equal(prefix.windows(n), rolled(h, n))
    starts, lengths = np.array([0, 7, 150]), np.array([13, 5, 50])
    assert prefix.at(starts, lengths).tolist() == [
        rolled(h[s:s + n], n)[0] for s, n in zip(starts, lengths)]


def test_same_words_same_gram_hash_at_any_position():
    words = word_spans(text_bytes(pl.Series(["x y the quick brown fox", "The Quick, brown FOX!"])))
    grams = Prefix(words.hashes).windows(4)
    ok = inside(words.first, 4, words.hashes.shape[0])
    assert grams[2] == grams[6] and ok[2] and ok[6]
    assert ok.tolist() == [True, True, True, False, False, False, True]
