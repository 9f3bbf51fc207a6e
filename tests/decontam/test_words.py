import re
import unicodedata

import numpy as np
import polars as pl

from curate.decontam.words import text_bytes, word_spans


def python_words(text: str | None) -> list[bytes]:
    """The reference: NFKC, lower case, \\w+ runs (as near dedup sees words)."""
    norm = unicodedata.normalize("NFKC", text or "").lower()
    return [w.encode() for w in re.findall(r"\w+", norm)]


TEXTS = ["Hello, World!  hello\tworld", "Straße café ﬁne Ｆｕｌｌ-width naïve—dash", "", None,
         "snake_case and CamelCase", "a" * 9 + " " + "B" * 17 + " " + "c" * 64 + "x",
         "ends with word", "starts-the-next", "1920s, 3.14 and 42!", "“curly” quotes’ don’t",
         "日本語のテキスト と English"]


def test_words_are_those_of_the_regex_reference():
    words = word_spans(text_bytes(pl.Series(TEXTS)))
    for i, text in enumerate(TEXTS):
        first, n = int(words.first[i]), int(words.counts()[i])
        assert words.words(first, n) == python_words(text), text


def test_equal_words_hash_equal_whatever_the_case_and_others_differ():
    words = word_spans(text_bytes(pl.Series(["Broadway BROADWAY broadway", "broadwax",
                                             "a" * 16 + "b", "a" * 16 + "c"])))
    h = words.hashes
    assert h[0] == h[1] == h[2] and h[3] != h[0]
    assert h[4] != h[5]  # differ past the first 16 bytes
    assert np.unique(h).size == 4


def test_words_of_neighbouring_texts_never_merge():
    words = word_spans(text_bytes(pl.Series(["abc", "def", "", "ghi"])))
    assert words.counts().tolist() == [1, 1, 0, 1]
    assert words.words(0, 3) == [b"abc", b"def", b"ghi"]
