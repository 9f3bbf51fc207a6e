from __future__ import annotations

import polars as pl
import pytest

from curate.errors import CurateError
from curate.export.split import split_frame


def _simple(b, n=100, sources=("a",)):
    return b.frame([b.sft(f"question {i}", f"answer {i}", sources[i % len(sources)])
                    for i in range(n)])


def _by_id(df, split):
    return dict(zip(df["id"].to_list(), split.to_list()))


def test_series_shape_and_values(b):
    df = _simple(b, 20)
    s = split_frame(df, test_size=0.25, seed=3)
    assert s.name == "split"
    assert s.dtype == pl.String
    assert s.len() == 20
    assert set(s.to_list()) == {"train", "test"}


def test_same_seed_same_split_other_seed_differs(b):
    df = _simple(b, 100)
    first = split_frame(df, test_size=0.2, seed=7)
    assert split_frame(df, test_size=0.2, seed=7).to_list() == first.to_list()
    assert split_frame(df, test_size=0.2, seed=8).to_list() != first.to_list()
    tests = {tuple(split_frame(df, test_size=0.2, seed=s).to_list()) for s in range(5)}
    assert len(tests) == 5


def test_independent_of_row_order(b):
    df = _simple(b, 60, sources=("a", "b", "c"))
    before = _by_id(df, split_frame(df, test_size=0.2, seed=1, validation_size=6))
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=42)
    assert shuffled["id"].to_list() != df["id"].to_list()
    after = _by_id(shuffled, split_frame(shuffled, test_size=0.2, seed=1, validation_size=6))
    assert after == before


@pytest.mark.parametrize("n, test_size, expected", [
    (100, 0.1, 10), (30, 0.1, 3), (30, 0.25, 8), (10, 0.5, 5), (100, 7, 7), (5, 1, 1),
    (5, 0.1, 1),
])
def test_counts_and_fractions(b, n, test_size, expected):
    s = split_frame(_simple(b, n), test_size=test_size)
    assert s.value_counts().sort("split").rows() == [("test", expected), ("train", n - expected)]


def test_validation_split_counts(b):
    s = split_frame(_simple(b, 100), test_size=0.1, validation_size=0.2, seed=5)
    counts = dict(s.value_counts().rows())
    assert counts == {"train": 70, "validation": 20, "test": 10}
    s = split_frame(_simple(b, 100), test_size=3, validation_size=4)
    assert dict(s.value_counts().rows()) == {"train": 93, "validation": 4, "test": 3}


def test_same_prompt_in_other_case_and_spacing_never_straddles(b):
    variants = ["What is Python?", "  what   is PYTHON?  ", "WHAT IS\tpython?", "What is python?\n"]
    records = [b.sft(v, f"reply {i}") for i, v in enumerate(variants)]
    records.append(b.pref("what is python?", "good", "bad"))
    # multi-turn prompts that differ only by spacing inside an earlier turn
    for i, first in enumerate(["Hello there ", "hello there", " HELLO   there"]):
        records.append({"kind": "sft", "source": "a", "meta": {}, "messages": b.turns(
            ("user", first), ("assistant", "hi"), ("user", "and then?"),
            ("assistant", f"then {i}"))})
    records += [b.sft(f"other {i}", "x") for i in range(30)]
    df = b.frame(records)
    for seed in range(20):
        s = split_frame(df, test_size=0.3, seed=seed).to_list()
        assert len(set(s[:5])) == 1, seed
        assert len(set(s[5:8])) == 1, seed
    in_test = {tuple(split_frame(df, test_size=0.3, seed=seed).to_list()[:5])
               for seed in range(20)}
    assert in_test == {("train",) * 5, ("test",) * 5}


def test_dup_cluster_joins_groups_transitively(b):
    # 0-1 share a prompt, 1-2 share dup_cluster 9, 2-3 share a prompt, 4 shares cluster 9 too.
    records = [b.sft("alpha", "r0"), b.sft("Alpha", "r1"), b.sft("beta", "r2"),
               b.sft("BETA ", "r3"), b.sft("gamma", "r4")]
    records += [b.sft(f"single {i}", "x") for i in range(25)]
    df = b.frame(records).with_columns(
        pl.Series("dup_cluster", [None, 9, 9, None, 9] + [None] * 25, dtype=pl.Int64))
    seen = set()
    for seed in range(30):
        s = split_frame(df, test_size=0.2, seed=seed).to_list()
        assert len(set(s[:5])) == 1, seed
        seen.add(s[0])
    assert seen == {"train", "test"}


def test_string_dup_cluster_and_null_keys(b):
    records = [b.sft(f"p{i}", "r") for i in range(20)]
    df = b.frame(records).with_columns(
        pl.Series("dup_cluster", ["c1", "c1", "c1", None] + [None] * 16, dtype=pl.String))
    for seed in range(10):
        s = split_frame(df, test_size=4, seed=seed).to_list()
        assert len(set(s[:3])) == 1
        assert s.count("test") == 4


def test_stratification_keeps_each_source_share(b):
    df = _simple(b, 100, sources=("a",) * 6 + ("b",) * 3 + ("c",))
    for seed in range(5):
        s = split_frame(df, test_size=0.1, seed=seed)
        test = df.filter(s == "test")["source"].value_counts().sort("source").rows()
        assert test == [("a", 6), ("b", 3), ("c", 1)]


def test_stratification_within_rounding(b):
    sources = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    df = b.frame([b.sft(f"q{i}", "r", s) for i, s in enumerate(sources)])
    for seed in range(5):
        s = split_frame(df, test_size=0.25, seed=seed)
        test = dict(df.filter(s == "test")["source"].value_counts().rows())
        assert sum(test.values()) == 25
        for src, total in {"a": 50, "b": 30, "c": 20}.items():
            assert abs(test[src] - total * 0.25) < 1, (src, test)
        assert test == {"a": 13, "b": 7, "c": 5}


def test_stratify_none_or_missing_column(b):
    df = _simple(b, 40, sources=("a", "b"))
    assert split_frame(df, test_size=0.1, stratify=None).to_list().count("test") == 4
    assert split_frame(df, test_size=0.1, stratify="nope").to_list().count("test") == 4


def test_groups_larger_than_the_quota(b):
    # ten groups of two rows: 3 test rows cannot be hit, the closest is 2 (never 0)
    records = [b.sft(f"q{i // 2}", f"r{i}") for i in range(20)]
    df = b.frame(records)
    for seed in range(5):
        s = split_frame(df, test_size=3, seed=seed).to_list()
        assert s.count("test") == 2
        s = split_frame(df, test_size=1, seed=seed).to_list()
        assert s.count("test") == 2


def test_one_group_cannot_be_split(b):
    df = b.frame([b.sft("same", "r1"), b.sft("SAME", "r2"), b.sft(" same ", "r3")])
    with pytest.raises(CurateError, match=r"cannot split 3 rows .* only 1 group"):
        split_frame(df, test_size=1)


@pytest.mark.parametrize("bad", [0, 0.0, 1.0, -0.1, 1.5, -3, True, "0.1", None])
def test_test_size_out_of_range(b, bad):
    with pytest.raises(CurateError, match=r"test_size must be a fraction in \(0, 1\) or a row "
                                          r"count >= 1"):
        split_frame(_simple(b, 10), test_size=bad)


def test_validation_size_out_of_range(b):
    with pytest.raises(CurateError, match=r"validation_size must be"):
        split_frame(_simple(b, 10), validation_size=1.0)


def test_more_than_can_be_split(b):
    with pytest.raises(CurateError, match=r"cannot split 10 rows with test_size=10: that is 10 "
                                          r"rows held out, which leaves no rows for train"):
        split_frame(_simple(b, 10), test_size=10)
    with pytest.raises(CurateError, match=r"test_size=0.5 and validation_size=5"):
        split_frame(_simple(b, 10), test_size=0.5, validation_size=5)


def test_empty_frame(b):
    s = split_frame(b.frame([]), test_size=0.1)
    assert s.name == "split" and s.len() == 0


def test_label_group_never_straddles(b):
    import polars as pl

    records = [b.sft(f"question {i}", f"answer {i}") for i in range(40)]
    df = b.frame(records).with_columns(
        label_group=pl.Series([f"g{i // 4}" if i < 12 else None for i in range(40)]))
    for seed in range(10):
        s = split_frame(df, test_size=0.25, seed=seed).to_list()
        for g in range(3):
            assert len(set(s[4 * g:4 * g + 4])) == 1, (seed, g)
        assert s.count("test") == 10
    # without the column the same rows split freely
    free = [split_frame(df.drop("label_group"), test_size=0.25, seed=seed).to_list()[:4]
            for seed in range(10)]
    assert any(len(set(x)) > 1 for x in free)
