"""Named inputs converted as one dataset: the dataset column, distinct ids for the same content
in two inputs, errors that name the input, per-input settings."""

from __future__ import annotations

import json

import polars as pl
import pytest

from curate.convert import convert, convert_parts
from curate.convert.inputs import Source, convert_inputs, parse_named
from curate.errors import CurateError, InputError


def alpaca(path, rows, ids=False):
    with open(path, "w", encoding="utf-8") as fh:
        for i, (q, a) in enumerate(rows):
            row = {"instruction": q, "input": "", "output": a}
            if ids:
                row["id"] = f"x{i}"
            fh.write(json.dumps(row) + "\n")
    return path


ROWS = [(f"question {i}?", f"answer {i}.") for i in range(7)]


def test_every_record_carries_its_input_and_same_content_gets_two_ids(tmp_path):
    f = alpaca(tmp_path / "a.jsonl", ROWS)
    res = convert_inputs([Source("ours", f), Source("again", f)], tmp_path / "k",
                         tmp_path / "r", rows=3)
    df = res.kept.read()
    assert df["dataset"].to_list() == ["ours"] * 7 + ["again"] * 7
    assert df["id"].n_unique() == 14  # the input's name is in the hash
    assert (res.rows_in, res.rows_out) == (14, 14)
    assert res.kept.counts() == [3, 3, 1, 3, 3, 1]  # each input's file in 3-row parts
    assert all("dataset" in pl.read_parquet_schema(p) for p in res.kept.files)
    # stable: the same inputs give the same ids; the single input keeps its ids
    again = convert_inputs([Source("ours", f), Source("again", f)], tmp_path / "k2",
                           tmp_path / "r2", rows=3).kept.read()
    assert again["id"].to_list() == df["id"].to_list()
    single = convert(f)
    assert "dataset" not in single.frame.columns
    assert set(single.frame["id"]).isdisjoint(df["id"])


def test_each_input_is_read_with_its_own_settings(tmp_path):
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"q": "What is it?", "a": "A thing."}\n', encoding="latin-1")
    f = alpaca(tmp_path / "a.jsonl", ROWS[:2])
    res = convert_inputs([Source("mapped", qa, columns="prompt=q,response=a",
                                 encoding="latin-1"),
                          Source("alp", f, format="alpaca")], tmp_path / "k", tmp_path / "r")
    df = res.kept.read()
    assert df["dataset"].to_list() == ["mapped", "alp", "alp"]
    assert set(res.formats.values()) == {"columns", "alpaca"}


def test_a_bad_row_names_the_input_and_the_file(tmp_path):
    f = alpaca(tmp_path / "a.jsonl", ROWS[:2])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "q", "output": "a"}\n{"instruction": \n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        convert_inputs([Source("good", f), Source("theirs", bad)], tmp_path / "k",
                       tmp_path / "r")
    assert str(info.value).startswith(f"input theirs: {bad}:2: invalid JSON")
    res = convert_inputs([Source("good", f), Source("theirs", bad)], tmp_path / "k2",
                         tmp_path / "r2", on_error="skip")
    rejected = res.rejected.read()
    assert rejected.select("dataset", "line", "drop_reason").rows() == [
        ("theirs", 2, "invalid_json")]


def test_an_id_given_in_two_inputs_is_a_repeat(tmp_path):
    a = alpaca(tmp_path / "a.jsonl", ROWS[:3], ids=True)
    b = alpaca(tmp_path / "b.jsonl", ROWS[3:5], ids=True)
    with pytest.raises(InputError) as info:
        convert_inputs([Source("a", a), Source("b", b)], tmp_path / "k", tmp_path / "r")
    assert str(info.value) == (f"input b: {b}:1: field 'id': id 'x0' was already used at "
                               "line 1 (reading it as alpaca); --on-error skip (on_error: "
                               "skip in a recipe) keeps such rows in rejected/ with their "
                               "reason")
    res = convert_inputs([Source("a", a), Source("b", b)], tmp_path / "k2", tmp_path / "r2",
                         on_error="skip")
    assert res.rejected.read().select("dataset", "drop_reason").rows() == [
        ("b", "duplicate_id"), ("b", "duplicate_id")]
    assert res.kept.read()["dataset"].to_list() == ["a"] * 3


def test_missing_files_and_a_column_map_on_records_are_refused_with_the_input_name(tmp_path):
    f = alpaca(tmp_path / "a.jsonl", ROWS[:2])
    (tmp_path / "docs").mkdir()
    with pytest.raises(CurateError, match=r"^input d: .*docs: no readable files in this "
                                          r"folder; supported: .jsonl"):
        convert_inputs([Source("a", f), Source("d", tmp_path / "docs")], tmp_path / "k",
                       tmp_path / "r")
    res = convert_parts(f, tmp_path / "run" / "data.parquet", tmp_path / "rej")
    assert res.rows_out == 2
    with pytest.raises(CurateError, match="^input old: .* holds curate records .* whose "
                                          "columns are curate's own; leave columns out"):
        convert_inputs([Source("old", tmp_path / "run" / "data.parquet",
                               columns="prompt=q,response=a")], tmp_path / "k3",
                       tmp_path / "r3")


@pytest.mark.parametrize("values,expected", [
    (["data.jsonl"], [(None, "data.jsonl")]),
    (["ours=a.jsonl", "theirs=b/"], [("ours", "a.jsonl"), ("theirs", "b/")]),
    (["s3://bucket/x=1.jsonl"], [(None, "s3://bucket/x=1.jsonl")])])
def test_parse_named(values, expected):
    assert parse_named(values) == expected


def test_parse_named_refuses_unnamed_among_several_and_repeats():
    with pytest.raises(CurateError, match=r"^several inputs need a name each, as NAME=PATH "
                                          r"\(got b.jsonl\)$"):
        parse_named(["a=a.jsonl", "b.jsonl"])
    with pytest.raises(CurateError, match="^input name 'a' is given twice; names are unique$"):
        parse_named(["a=a.jsonl", "a=b.jsonl"])


def test_repeats_inside_an_input_are_numbered_in_that_input(tmp_path):
    f = alpaca(tmp_path / "a.jsonl", [ROWS[0], ROWS[0], ROWS[1]])
    res = convert_inputs([Source("x", f), Source("y", f)], tmp_path / "k", tmp_path / "r",
                         rows=2)
    df = res.kept.read()
    assert df["id"].n_unique() == 6
    again = convert_inputs([Source("x", f), Source("y", f)], tmp_path / "k2",
                           tmp_path / "r2").kept.read()  # other part sizes, the same ids
    assert again["id"].to_list() == df["id"].to_list()


def test_a_run_folder_is_an_input_with_its_own_ids(tmp_path):
    from curate.recipe import parse_recipe
    from curate.runner import run_recipe

    old = alpaca(tmp_path / "old.jsonl", ROWS[:4])
    run_recipe(parse_recipe({"name": "v1", "input": {"path": str(old)}}), tmp_path / "v1")
    v1 = pl.read_parquet(tmp_path / "v1" / "data.parquet")
    new = alpaca(tmp_path / "new.jsonl", ROWS[3:7])
    res = convert_inputs([Source("new", new), Source("v1", tmp_path / "v1"),
                          Source("more", new)], tmp_path / "k", tmp_path / "r", rows=3)
    df = res.kept.read()
    assert df["dataset"].to_list() == ["new"] * 4 + ["v1"] * 4 + ["more"] * 4
    assert df.filter(pl.col("dataset") == "v1")["id"].to_list() == v1["id"].to_list()
    assert df["id"].n_unique() == 12 and (res.rows_in, res.rows_out) == (12, 12)
    # a named run (with its dataset column) as an input of the next: renamed, ids kept
    renamed = convert_inputs([Source("v2", tmp_path / "k")], tmp_path / "k2",
                             tmp_path / "r2").kept.read()
    assert set(renamed["dataset"]) == {"v2"} and renamed["id"].to_list() == df["id"].to_list()
    # v1's records are in v2 already: their ids twice
    with pytest.raises(CurateError, match=r"^id '[0-9a-f]{16}' is in inputs v2 and v1 more "
                                          r"than once; ids are unique in a dataset"):
        convert_inputs([Source("v2", tmp_path / "k"), Source("v1", tmp_path / "v1")],
                       tmp_path / "k3", tmp_path / "r3")
