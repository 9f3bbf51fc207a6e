import json

import polars as pl
import pytest

from curate.convert import convert, records
from curate.errors import CurateError, RowError
from curate.io import write_jsonl
from curate.record_schema import RECORD_COLUMNS
from curate.records import frame_to_records, records_to_frame

SFT = {"id": "s1", "kind": "sft", "source": "mine", "meta": {"k": 1},
       "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
PAIR = {"id": "p1", "kind": "preference", "source": "mine", "meta": {},
        "prompt": [{"role": "user", "content": "q"}],
        "chosen": [{"role": "assistant", "content": "good"}],
        "rejected": [{"role": "assistant", "content": "bad"}],
        "chosen_score": 0.9, "rejected_score": 0.1}


def test_record_rows_in_jsonl(tmp_path):
    p = tmp_path / "r.jsonl"
    pair = {k: v for k, v in PAIR.items() if k != "kind"} | {"meta": '{"m": 2}', "toxicity": 0.1}
    write_jsonl([SFT, pair], p)
    res = convert(p)
    assert res.formats == {str(p): "records"}
    sft, pref = frame_to_records(res.frame)
    assert (sft["id"], sft["source"], sft["messages"]) == ("s1", "mine", SFT["messages"])
    assert sft["meta"] == {"k": 1, "file": "r.jsonl", "line": 1, "format": "records"}
    assert (pref["kind"], pref["chosen_score"], pref["rejected_score"]) == ("preference", 0.9, 0.1)
    assert pref["meta"] == {"m": 2, "toxicity": 0.1, "file": "r.jsonl", "line": 2,
                            "format": "records"}


def test_string_prompt_and_replies():
    rec = records.to_records({"prompt": "q", "chosen": "a", "rejected": "b"})[0]
    assert rec["prompt"] == [{"role": "user", "content": "q"}]
    assert rec["rejected"] == [{"role": "assistant", "content": "b"}]


@pytest.mark.parametrize("row,reason,field", [
    ({"kind": "dpo", "messages": []}, "wrong_type", "kind"),
    (SFT | {"meta": "not json"}, "wrong_type", "meta"),
    (SFT | {"meta": [1]}, "wrong_type", "meta"),
    (PAIR | {"chosen_score": "high"}, "wrong_type", "chosen_score"),
    (PAIR | {"prompt": [{"role": "assistant", "content": "x"}]}, "no_user_turn", "prompt"),
    (PAIR | {"chosen": [{"role": "user", "content": "x"}]}, "no_assistant_turn", "chosen"),
    (PAIR | {"rejected": None}, "missing_field", "rejected"),
])
def test_bad_record_rows(row, reason, field):
    with pytest.raises(RowError) as exc:
        records.to_records(row)
    assert (exc.value.reason, exc.value.field) == (reason, field)


def _run_folder(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    df = records_to_frame([SFT, PAIR]).with_columns(dup_cluster=pl.lit(3))
    df.write_parquet(run / "data.parquet")
    (run / "manifest.json").write_text(json.dumps({"rows_in": 2}))
    return run


def test_record_input_fast_path(tmp_path):
    run = _run_folder(tmp_path)
    res = convert(run)
    assert res.frame.columns == [*RECORD_COLUMNS, "dup_cluster"]
    assert res.frame["id"].to_list() == ["s1", "p1"]
    assert (res.rows_in, res.rejected.height) == (2, 0)
    assert res.formats == {str(run / "data.parquet"): "records"}
    assert convert(run, limit=1).frame["id"].to_list() == ["s1"]


def test_record_input_kind(tmp_path):
    run = _run_folder(tmp_path)
    sft = convert(run, kind="sft").frame
    assert sft["kind"].to_list() == ["sft", "sft"]
    assert frame_to_records(sft)[1]["messages"] == PAIR["prompt"] + PAIR["chosen"]
    assert sft["chosen"].null_count() == 2
    with pytest.raises(CurateError, match="1 SFT records"):
        convert(run, kind="preference")
