import numpy as np
import polars as pl

from curate.decontam.fold import COMPLEX, fold_table
from curate.decontam.scan import word_hashes
from curate.decontam.words import raw_bytes, text_bytes

from .test_words import TEXTS


def both_routes(texts: list[str | None]):
    """Word hashes of the texts as they are (fold table) and after the whole-text pipeline."""
    series = pl.Series(texts, dtype=pl.String)
    raw, norm = raw_bytes(series), text_bytes(series)
    return word_hashes(raw.data, raw.offsets), word_hashes(norm.data, norm.offsets, True)


def assert_same_words(texts: list[str | None]) -> np.ndarray:
    (h, first, wide), (h2, first2, wide2) = both_routes(texts)
    assert not wide2.any()
    for i, text in enumerate(texts):
        if not wide[i]:
            assert h[first[i]:first[i + 1]].tolist() == h2[first2[i]:first2[i + 1]].tolist(), text
    return wide


def test_folded_texts_hash_as_the_pipeline_normalises_them():
    wide = assert_same_words(TEXTS + ["ＦＵＬＬ　ｗｉｄｔｈ", "Ärger über Öl", "ΣΟΦΙΑ σοφία",
                                      "x\u00a0y", "Ǆemal ǅ ǆ", "résumé naïve"])
    # combining marks, a word-final sigma, two-character folds and emoji need the pipeline
    assert assert_same_words(["e\u0301te", "ΟΔΟΣ", "ﬁne", "İstanbul", "hi 🤗"]).all()
    assert wide[:len(TEXTS)].tolist() == ["ﬁne" in (t or "") for t in TEXTS]


def test_random_texts_of_foldable_characters_hash_as_the_pipeline():
    table = fold_table()
    foldable = np.flatnonzero(table[0x80:] != COMPLEX) + 0x80
    rng = np.random.default_rng(7)
    pool = np.concatenate([foldable, np.frombuffer(b"aZ09_ ,.-\n", np.uint8).astype(np.int64)])
    texts = ["".join(map(chr, rng.choice(pool, rng.integers(1, 40)))) for _ in range(3000)]
    assert not assert_same_words(texts).any()


def test_real_multilingual_prose_hashes_as_the_pipeline(shared_data):
    paras = [p for f in sorted((shared_data / "raw" / "multilingual").glob("*.txt"))
             for p in f.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    wide = assert_same_words(paras)
    assert wide.mean() < 0.2  # the table takes most real prose


def test_ngram_shorter_than_min_words_still_finds_every_window():
    from curate.decontam.index import build_index

    item = "one two three four five six seven eight nine ten"
    idx = build_index(["a"], [[item]], ngram=8, min_words=13)
    texts = ["one two three four five six seven eight", "x " + item.upper(), "one two"]
    assert sorted(idx.find(pl.Series(texts))) == [0, 1]
