import numpy as np
import polars as pl

from curate.dedup.shingles import mix64, shingle_hashes


def test_shingle_counts_and_offsets():
    texts = pl.Series(["a b c d e f", "one two", "", None, "x y z"])
    hashes, offsets = shingle_hashes(texts, ngram=3)
    # 6 words -> 4 windows; fewer words than n -> one shingle; no words -> none
    assert offsets.tolist() == [0, 4, 5, 5, 5, 6]
    assert hashes.dtype == np.uint64 and hashes.shape == (6,)


def test_same_ngram_same_hash_across_texts_and_order_matters():
    hashes, off = shingle_hashes(pl.Series(["red fox jumps high", "big red fox jumps",
                                            "fox red jumps"]), ngram=3)
    first, second, third = (set(hashes[off[i]:off[i + 1]].tolist()) for i in range(3))
    assert len(first & second) == 1          # "red fox jumps"
    assert not third & (first | second)      # same words, other order


def test_words_not_punctuation_make_shingles():
    a, _ = shingle_hashes(pl.Series(["Hello, world!  How are you?"]), ngram=2)
    b, _ = shingle_hashes(pl.Series(["Hello world how are you"]), ngram=2)
    assert len(a) == 4
    assert a[0] == b[0] and a[3] == b[3]     # "Hello world", "are you": punctuation ignored
    assert a[1] != b[1]                      # case is kept: "How" != "how"


def test_mix64_is_a_bijection_on_samples():
    x = np.arange(100_000, dtype=np.uint64)
    assert np.unique(mix64(x)).size == x.size


def test_unique_sorted_with_inverse():
    from curate.dedup.shingles import unique

    values = np.array([[5, 1], [5, 9], [1, 3]], np.uint64)
    assert unique(values).tolist() == [1, 3, 5, 9]
    distinct, inverse = unique(values, return_inverse=True)
    assert np.array_equal(distinct[inverse], values) and inverse.shape == (3, 2)
