import gzip
import json

import polars as pl
import pytest

from curate.convert import convert
from curate.convert.alpaca_eval import Annotations
from curate.errors import RowError
from curate.records import frame_to_records

from ..conftest import ANNOTATIONS_FILE as ANNOTATIONS

# ``alpaca_eval_files`` (tests/conftest.py): files made by the test with the real names and keys,
# then the real AlpacaEval files where ../shared/data exists. Same assertions on both.


def test_model_outputs(alpaca_eval_files):
    ae = alpaca_eval_files
    path = ae.path / "gpt-3.5-turbo-0301.model_outputs.json.gz"
    res = convert(path)
    assert (res.frame.height, res.rejected.height, res.rows_in) == (ae.rows, 0, ae.rows)
    assert res.formats == {str(path): "alpaca-eval-outputs"}
    first = frame_to_records(res.frame.head(1))[0]
    raw = json.load(gzip.open(path))[0]
    assert first["kind"] == "sft"
    assert first["messages"] == [{"role": "user", "content": raw["instruction"]},
                                 {"role": "assistant", "content": raw["output"]}]
    assert first["source"] == "gpt-3.5-turbo-0301.model_outputs.json.gz"
    assert first["meta"] == {"dataset": ae.first_dataset, "generator": "gpt-3.5-turbo-0301",
                             "file": "gpt-3.5-turbo-0301.model_outputs.json.gz", "line": 1,
                             "format": "alpaca-eval-outputs"}
    assert res.frame["id"].n_unique() == ae.rows


def test_all_model_outputs_folder(alpaca_eval_files):
    ae = alpaca_eval_files
    res = convert(ae.path, format="alpaca-eval", on_error="skip")
    # three outputs files (text_davinci_003 has two empty outputs) and the annotations (one tie)
    assert res.rows_in == 4 * ae.rows
    counts = dict(res.frame.group_by("kind").len().iter_rows())
    assert counts == {"sft": 3 * ae.rows - 2, "preference": ae.rows - 1}
    rejected = [(f.rsplit("/", 1)[-1], line, field, reason) for f, line, field, reason
                in res.rejected.select("file", "line", "field", "drop_reason").iter_rows()]
    first, second = ae.empty_outputs
    assert rejected == [(ANNOTATIONS, ae.tie_line, "preference", "tie"),
                        ("text_davinci_003.model_outputs.json.gz", first, "output", "empty_turn"),
                        ("text_davinci_003.model_outputs.json.gz", second, "output", "empty_turn")]
    assert sorted(res.formats.values()) == ["alpaca-eval-annotations"] + ["alpaca-eval-outputs"] * 3


def test_annotations_exact_counts(alpaca_eval_files):
    ae = alpaca_eval_files
    path = ae.path / ANNOTATIONS
    res = convert(path, on_error="skip")
    assert (res.rows_in, res.frame.height, res.rejected.height) == (ae.rows, ae.rows - 1, 1)
    rej = res.rejected.row(0, named=True)
    assert (rej["line"], rej["field"], rej["drop_reason"]) == (ae.tie_line, "preference", "tie")
    assert json.loads(rej["raw"])["preference"] == 1.5
    recs = frame_to_records(res.frame)
    prefs = [r["meta"]["preference"] for r in recs]
    assert (prefs.count(1.0), prefs.count(2.0)) == ae.preferences
    raw = json.load(gzip.open(path))
    for rec in recs[:50]:
        row = raw[rec["meta"]["line"] - 1]
        winner = row["output_1"] if row["preference"] == 1.0 else row["output_2"]
        loser = row["output_2"] if row["preference"] == 1.0 else row["output_1"]
        assert rec["prompt"] == [{"role": "user", "content": row["instruction"]}]
        assert rec["chosen"] == [{"role": "assistant", "content": winner}]
        assert rec["rejected"] == [{"role": "assistant", "content": loser}]
    assert set(recs[0]["meta"]) == {"generator_1", "generator_2", "annotator", "dataset",
                                    "preference", "file", "line", "format"}
    assert res.frame["chosen_score"].null_count() == ae.rows - 1


def test_annotations_tie_is_a_rejected_row_even_when_errors_raise(alpaca_eval_files):
    ae = alpaca_eval_files
    res = convert(ae.path / ANNOTATIONS, on_error="raise")
    assert res.frame.height == ae.rows - 1
    tie = res.rejected.row(0, named=True)
    assert (tie["line"], tie["field"], tie["drop_reason"]) == (ae.tie_line, "preference", "tie")
    assert ANNOTATIONS in tie["file"]


def test_kind_sft_turns_pairs_into_conversations(alpaca_eval_files):
    res = convert(alpaca_eval_files.path / ANNOTATIONS, kind="sft", limit=10)
    assert res.rows_in == 10 and res.frame["kind"].unique().to_list() == ["sft"]
    rec = frame_to_records(res.frame.head(1))[0]
    assert [m["role"] for m in rec["messages"]] == ["user", "assistant"]
    assert rec["prompt"] is None and rec["chosen"] is None


def _row(pref):
    return {"instruction": "q", "output_1": "one", "output_2": "two", "preference": pref,
            "generator_1": "a", "generator_2": "b"}


@pytest.mark.parametrize("pref,winner", [(1, "one"), (1.2, "one"), (1.4999, "one"),
                                         ("2.0", "two"), (1.7, "two")])
def test_continuous_preference(pref, winner):
    rec = Annotations.to_records(_row(pref))[0]
    assert rec["chosen"][0]["content"] == winner
    assert rec["chosen_score"] is None and rec["rejected_score"] is None


@pytest.mark.parametrize("pref,reason", [(1.5, "tie"), (1.5 + 1e-10, "tie"), (2.5, "invalid_value"),
                                         (None, "missing_field"), (float("nan"), "missing_field"),
                                         ("x", "wrong_type")])
def test_bad_preference(pref, reason):
    with pytest.raises(RowError) as exc:
        Annotations.to_records(_row(pref))
    assert (exc.value.reason, exc.value.field) == (reason, "preference")


def test_identical_outputs_are_rejected():
    row = _row(1.0) | {"output_2": "one"}
    with pytest.raises(RowError) as exc:
        Annotations.to_records(row)
    assert exc.value.reason == "identical_pair"


def test_preference_is_kept_as_given_in_meta(tmp_path):
    p = tmp_path / "ann.json"
    p.write_text(json.dumps([_row(2.0) | {"raw_completion": "x", "price_per_example": 0.1,
                                         "time_per_example": 1.0, "annotator": "gpt"}]))
    res = convert(p)
    meta = json.loads(res.frame["meta"][0])
    assert meta == {"preference": 2.0, "generator_1": "a", "generator_2": "b", "annotator": "gpt",
                    "file": "ann.json", "line": 1, "format": "alpaca-eval-annotations"}
    assert res.frame.select(pl.col("chosen").list.first().struct.field("content")).item() == "two"
