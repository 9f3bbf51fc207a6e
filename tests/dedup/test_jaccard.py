import numpy as np
import polars as pl

from curate.dedup.jaccard import pair_jaccard


def test_exact_jaccard_of_pairs():
    texts = pl.Series(["a b c d", "a b c e", "x y", "a b c d"])
    pairs = np.array([[0, 1], [0, 2], [0, 3]])
    # word 2-grams: {ab, bc, cd} vs {ab, bc, ce} -> 2 / 4
    assert pair_jaccard(texts, pairs, ngram=2).tolist() == [0.5, 0.0, 1.0]


def test_no_pairs():
    assert pair_jaccard(pl.Series(["a"]), np.zeros((0, 2), np.int64)).shape == (0,)


def test_repeated_shingles_count_once_and_batches_agree(monkeypatch):
    texts = pl.Series(["a b a b a b", "a b a b", "x y z", "a b c"])
    pairs = np.array([[0, 1], [1, 0], [0, 2], [0, 3], [3, 3]])
    # {ab, ba} vs {ab, ba}; vs {xy, yz}; vs {ab, bc} -> 1/3
    expected = [1.0, 1.0, 0.0, 1 / 3, 1.0]
    assert pair_jaccard(texts, pairs, ngram=2).tolist() == expected
    monkeypatch.setattr("curate.dedup.jaccard.PAIR_BATCH", 2)
    assert pair_jaccard(texts, pairs, ngram=2).tolist() == expected
