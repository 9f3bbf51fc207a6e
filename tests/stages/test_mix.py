"""Stage mix: quotas per named input in records or tokens, over several pieces; copies with
their own ids and counted as made rows; rows not drawn rejected with over_quota."""

from __future__ import annotations

import polars as pl
import pytest

from curate.engines.local import LocalEngine
from curate.errors import RecipeError, StageError
from curate.io.parts import write_parts
from curate.manifest import check_accounting
from curate.recipe import parse_recipe
from curate.records import records_to_frame
from curate.stages.base import StageContext, StageData
from curate.stages.mix import Mix

from ..mix.test_tokens import word_tokenizer


def frame(sizes: dict[str, int], score: bool = False) -> pl.DataFrame:
    """Records of each input: input i's row j has j + 1 words in its reply."""
    recs, names = [], []
    for name, n in sizes.items():
        for j in range(n):
            recs.append({"id": f"{name}-{j}", "kind": "sft", "source": name, "meta": {},
                         "messages": [{"role": "user", "content": f"q {name} {j}"},
                                      {"role": "assistant",
                                       "content": " ".join(["w"] * (j + 1))}]})
            names.append(name)
    df = records_to_frame(recs).with_columns(pl.Series("dataset", names))
    if score:
        df = df.with_columns(pl.Series("score", [float(i % 7) for i in range(df.height)]))
    return df


def run(df: pl.DataFrame, tmp_path, rows: int = 4, **options):
    """The stage over a part folder of ``rows`` rows a part (several pieces)."""
    data = StageData(write_parts(df, tmp_path / "in", rows=rows), tmp_path / "kept",
                     tmp_path / "rejected", tmp_path / "scratch")
    out = Mix(options).run(data, StageContext(name="mix", seed=3), LocalEngine())
    check_accounting("mix", out.rows_in, out.rows_out, out.dropped(), out.added)
    return out, out.kept.read(), out.rejected.read()


def test_record_quotas_count_and_share_and_the_rest_kept_whole(tmp_path):
    out, kept, rejected = run(frame({"a": 10, "b": 8, "c": 3}), tmp_path,
                              quotas={"a": 4, "b": 0.25})
    assert kept.group_by("dataset").len().sort("dataset").rows() == [("a", 4), ("b", 2),
                                                                      ("c", 3)]
    assert rejected["drop_reason"].unique().to_list() == ["over_quota"]
    assert (out.rows_in, out.rows_out, out.dropped(), out.added) == (21, 9,
                                                                     {"over_quota": 12}, 0)
    assert kept.columns == frame({"a": 1}).columns  # nothing added with records
    assert out.stats["inputs"]["b"]["target"] == 2
    again = run(frame({"a": 10, "b": 8, "c": 3}), tmp_path / "again",
                quotas={"a": 4, "b": 0.25})[1]
    assert again["id"].to_list() == kept["id"].to_list()  # seeded: the same draw


def test_by_score_takes_the_highest_first(tmp_path):
    df = frame({"a": 14}, score=True)
    _, kept, _ = run(df, tmp_path, quotas={"a": 3}, by="score")
    # scores i % 7: 6 at rows 6 and 13, then 5 at row 5 (ties by position)
    assert kept["id"].to_list() == ["a-5", "a-6", "a-13"]


def test_repeat_makes_copies_with_their_own_ids(tmp_path):
    out, kept, rejected = run(frame({"a": 3, "b": 4}), tmp_path, quotas={"a": 7, "b": 1},
                              repeat=True)
    a = kept.filter(pl.col("dataset") == "a")
    assert a.height == 7 and a["id"].n_unique() == 7
    assert sorted(a["id"].to_list()) == sorted(
        ["a-0", "a-1", "a-2", "a-0#1", "a-1#1", "a-2#1"]
        + [f"{i}#2" for i in a.filter(pl.col("mix_copy") == 2)["id"].str.replace("#2", "")])
    assert a["mix_copy"].to_list().count(0) == 3
    # a copy follows its row, in input order
    ids = a["id"].to_list()
    for copy in [i for i in ids if "#" in i]:
        assert ids.index(copy) > ids.index(copy.split("#")[0])
    assert (out.rows_in, out.rows_out, out.added, out.dropped()) == (7, 8, 4,
                                                                     {"over_quota": 3})
    assert out.stats["copies"] == 4


def test_token_quotas_are_met_within_one_record(tmp_path):
    tok = str(word_tokenizer(tmp_path / "tokenizer.json"))
    df = frame({"a": 30, "b": 20, "c": 5})
    out, kept, rejected = run(df, tmp_path / "run", unit="tokens", tokenizer=tok,
                              quotas={"a": 100, "b": 0.5})
    # tokens of row j: 3 words of the question + j + 1 words of the reply
    assert kept["tokens"].to_list() == [3 + int(i.split("-")[1]) + 1 for i in kept["id"]]
    assert rejected["tokens"].null_count() == 0
    for name, target in (("a", 100), ("b", 0.5 * sum(3 + j + 1 for j in range(20)))):
        got = kept.filter(pl.col("dataset") == name)["tokens"]
        assert got.sum() >= target and got.sum() - got.max() < target
        assert out.stats["inputs"][name]["units"] == got.sum()
    assert kept.filter(pl.col("dataset") == "c").height == 5
    assert out.stats["tokenizer"] == tok


def test_an_existing_tokens_column_is_used(tmp_path):
    df = frame({"a": 6}).with_columns(tokens=pl.Series([10, 20, 30, 40, 50, 60]))
    out, kept, _ = run(df, tmp_path, unit="tokens", quotas={"a": 60}, by="tokens")
    assert kept["tokens"].to_list() == [60]  # 60 tokens: the first row (highest) meets it
    assert out.stats["tokenizer"] == "tokens column"


def test_without_named_inputs_it_says_so(tmp_path):
    with pytest.raises(StageError, match="no column 'dataset': mix draws from named inputs"):
        run(frame({"a": 2}).drop("dataset"), tmp_path, quotas={"a": 1})


def test_a_missing_input_is_a_note(tmp_path):
    out, kept, _ = run(frame({"a": 3}), tmp_path, quotas={"zz": 1})
    assert kept.height == 3 and out.stats["notes"] == ["mix: no input named 'zz' in the data"]


@pytest.mark.parametrize("with_,error", [
    ({"quotas": {}}, "stages[0].with.quotas: name at least one input and its quota"),
    ({"quotas": {"a": 1.5}}, "stages[0].with.quotas: a: a share above 1 (1.5) takes rows "
                             "more than once: set repeat: true"),
    ({"quotas": {"a": -2}}, "stages[0].with.quotas: a: a quota is 0 or more, not -2"),
    ({"quotas": {"a": 1}, "tokenizer": "t.json"},
     "stages[0].with.tokenizer: counts tokens: it goes with unit: tokens"),
    ({"quotas": {"a": 1}, "unit": "bytes"}, "stages[0].with.unit: Input should be 'records' "
                                             "or 'tokens'")])
def test_recipe_errors_name_the_option(with_, error):
    with pytest.raises(RecipeError) as info:
        parse_recipe({"name": "m", "inputs": [{"name": "a", "path": "x.jsonl"}],
                      "stages": [{"use": "mix", "with": with_}]})
    assert str(info.value) == error
