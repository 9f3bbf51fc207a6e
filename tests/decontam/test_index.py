import pickle

import polars as pl

from curate.decontam.index import NgramIndex, build_index

ITEM = ("Write a short story about a robot who learns to paint in the style of Van Gogh "
        "and sells the paintings")
SHORT = "What is some cool music from the 1920s?"


def index(**kw) -> NgramIndex:
    return build_index(["a", "b"], [[ITEM, SHORT, "Write \"Test\"", "Yes"], [SHORT]],
                       ngram=kw.pop("ngram", 13), min_words=kw.pop("min_words", 5))


def found(idx: NgramIndex, texts: list[str]) -> dict[int, tuple[list[str], str]]:
    return {i: (idx.names_of(h.mask), h.span) for i, h in idx.find(pl.Series(texts)).items()}


def test_items_found_whatever_the_case_punctuation_and_surroundings():
    hits = found(index(), [
        ITEM,                                                           # verbatim
        ITEM.upper(),                                                   # re-cased
        ITEM.replace(" ", ", ").replace("Gogh", "Gogh!!"),              # re-punctuated
        "Please do this. " + ITEM + " Thanks a lot.",                   # inside a longer text
        "so: " + SHORT.lower().rstrip("?") + " - anything?",            # short item, inside
        "Write a short story about a robot who learns to cook.",        # 10 words shared: no
        "Write test",                                                   # 2 words, a whole turn
        "How do I write test cases?",                                   # 2 words inside: no
        "yes",                                                          # one word: never
    ])
    assert sorted(hits) == [0, 1, 2, 3, 4, 6]
    assert hits[0] == (["a"], " ".join(ITEM.lower().split()[:13]))
    assert hits[4] == (["a", "b"], "what is some cool music from the 1920s")


def test_a_hash_hit_with_other_words_is_not_a_match():
    idx = index()
    text = [ITEM]
    assert found(idx, text)
    # the benchmark words the entries point to no longer say the same: every hit is refused
    data = idx.bench.data.copy()
    data[data == ord("o")] = ord("0")
    idx.bench.data = data
    assert found(idx, text) == {}


def test_ngram_option_and_min_words():
    eight = index(ngram=8)
    assert 0 in found(eight, ["and so a robot who learns to paint in the style of x"])
    assert found(index(min_words=9), ["so: " + SHORT]) == {}  # 8 words < 9: whole turns only
    assert 0 in found(index(min_words=9), [SHORT.upper()])


def test_pickled_and_saved_indexes_find_the_same(tmp_path):
    idx = index()
    texts = [ITEM, "nothing here", "x " + SHORT, "Write test"]
    want = found(idx, texts)
    assert found(pickle.loads(pickle.dumps(idx)), texts) == want
    idx.save(tmp_path / "i.npz")
    loaded = NgramIndex.load(tmp_path / "i.npz")
    assert loaded.counts == idx.counts and found(loaded, texts) == want
    assert NgramIndex.load(tmp_path / "missing.npz") is None


def test_counts_per_benchmark():
    counts = index().counts
    assert counts["a"] == {"texts": 4, "ngrams": len(ITEM.split()) - 12, "short_texts": 1,
                           "whole_turn_texts": 1, "too_short": 1}
