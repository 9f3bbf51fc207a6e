"""Tool calls from an OpenAI-format file through `curate convert` and `curate export`: kept in
the record, written where the target has a form for them (TRL, OpenAI, LLaMA-Factory sharegpt),
rejected with their reason where it has none."""

from __future__ import annotations

import json

import polars as pl
import pytest
from click.testing import CliRunner

from curate.cli import cli
from curate.convert import convert
from curate.export import export
from curate.export.tools import PLAIN_MESSAGE
from curate.record_schema import MESSAGES
from curate.records import frame_to_records, records_to_frame

from .loading import load_all, rows

CALL = {"id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
TOOL_ROW = {"messages": [
    {"role": "system", "content": "You can look up the weather."},
    {"role": "user", "content": "What is the weather in Paris?"},
    {"role": "assistant", "content": None, "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"},
    {"role": "assistant", "content": "It is 18C and sunny in Paris."}]}
PLAIN_ROWS = [{"messages": [{"role": "user", "content": f"Question {i}?"},
                            {"role": "assistant", "content": f"Answer {i}."}]} for i in range(5)]
# what the record holds: the call-only turn has empty content; null tool fields are left out
RECORD_TURNS = [
    {"role": "system", "content": "You can look up the weather."},
    {"role": "user", "content": "What is the weather in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [CALL]},
    {"role": "tool", "content": "18C and sunny", "tool_call_id": "call_1"},
    {"role": "assistant", "content": "It is 18C and sunny in Paris."}]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def run(tmp_path):
    """`curate convert` of an OpenAI chat file with one tool-using conversation."""
    data = tmp_path / "chats.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in [TOOL_ROW, *PLAIN_ROWS]))
    out = tmp_path / "run"
    r = invoke("convert", data, "-o", out)
    assert r.exit_code == 0, r.output
    return out


def _tool_rows(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if "tool_calls" in line]


def test_convert_keeps_the_calls(run):
    (rec,) = [r for r in frame_to_records(pl.read_parquet(run / "data.parquet"))
              if len(r["messages"]) == 5]
    assert rec["messages"] == RECORD_TURNS


def test_trl_sft_writes_the_calls_in_trls_form(run, tmp_path):
    out = tmp_path / "trl"
    r = invoke("export", run, "-o", out, "--target", "trl-sft", "--test-size", "1")
    assert r.exit_code == 0, r.output
    assert "not exported" not in r.stdout
    want = [RECORD_TURNS[0], RECORD_TURNS[1], RECORD_TURNS[2],
            {**RECORD_TURNS[3], "name": "get_weather"}, RECORD_TURNS[4]]
    (row,) = [row for s in ("train", "test") for row in _tool_rows(out / f"{s}.jsonl")]
    assert row["messages"] == want
    # every other row keeps plain {role, content} turns in the JSON file
    plain = [json.loads(line) for s in ("train", "test")
             for line in (out / f"{s}.jsonl").read_text().splitlines() if "tool" not in line]
    assert len(plain) == 5 and all(set(t) == {"role", "content"}
                                   for p in plain for t in p["messages"])
    # the files load with `datasets` (parquet, JSON lines, the folder) with the calls in place
    for how, ds in load_all(out, {"train": 1, "test": 1}, tmp_path / "c").items():
        (got,) = [r["messages"] for r in rows(ds) if len(r["messages"]) == 5]
        assert got[2]["tool_calls"] == [CALL], how
        assert (got[3]["tool_call_id"], got[3]["name"]) == ("call_1", "get_weather"), how


def test_openai_round_trip(run, tmp_path):
    out = tmp_path / "oa"
    r = invoke("export", run, "-o", out, "--target", "openai", "--test-size", "1")
    assert r.exit_code == 0, r.output
    (row,) = [row for s in ("train", "test") for row in _tool_rows(out / f"{s}.jsonl")]
    assert row == {"messages": RECORD_TURNS}
    back = convert(out / "train.jsonl").frame.vstack(convert(out / "test.jsonl").frame)
    assert [r["messages"] for r in frame_to_records(back) if len(r["messages"]) == 5] == [
        RECORD_TURNS]


def test_llama_factory_sharegpt_function_call_turns(run, tmp_path):
    out = tmp_path / "lf"
    r = invoke("export", run, "-o", out, "--target", "llama-factory", "--test-size", "1",
               "--formats", "jsonl")
    assert r.exit_code == 0, r.output
    (row,) = [json.loads(line) for s in ("train", "test")
              for line in (out / f"{s}.jsonl").read_text().splitlines() if "function" in line]
    assert row["conversations"] == [
        {"from": "system", "value": "You can look up the weather."},
        {"from": "human", "value": "What is the weather in Paris?"},
        {"from": "function_call",
         "value": '{"name": "get_weather", "arguments": {"city": "Paris"}}'},
        {"from": "observation", "value": "18C and sunny"},
        {"from": "gpt", "value": "It is 18C and sunny in Paris."}]
    # read back by curate's sharegpt reader: the call again (LLaMA-Factory's form has no id)
    back = [r for s in ("train", "test") for r in frame_to_records(
        convert(out / f"{s}.jsonl", format="sharegpt").frame) if len(r["messages"]) == 5]
    assert back[0]["messages"][2]["tool_calls"] == [{**CALL, "id": None}]


@pytest.mark.parametrize("args, reason", [
    (["--target", "axolotl"], "tool_calls_unsupported"),
    (["--target", "llama-factory", "--style", "alpaca"], "tool_calls_unsupported"),
    (["--target", "trl-sft", "--chat-template", "zephyr"], "template_error"),
])
def test_targets_without_a_form_reject_the_row(run, tmp_path, args, reason):
    out = tmp_path / "o"
    r = invoke("export", run, "-o", out, "--test-size", "1", *args)
    assert r.exit_code == 0, r.output
    assert f"  not exported: {reason}: 1\n" in r.stdout
    rejected = pl.read_parquet(out / "rejected" / "export.parquet")
    assert rejected["drop_reason"].to_list() == [reason]
    assert frame_to_records(rejected)[0]["messages"] == RECORD_TURNS
    for f in out.glob("*.jsonl"):
        assert "get_weather" not in f.read_text()


def test_openai_needs_ids_and_dpo_takes_no_calls(tmp_path):
    no_id = {"conversations": [{"from": "human", "value": "Weather?"},
                               {"from": "function_call",
                                "value": '{"name": "get_weather", "arguments": {}}'},
                               {"from": "observation", "value": "sun"},
                               {"from": "gpt", "value": "Sunny."}]}
    data = tmp_path / "sg.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in [no_id, *PLAIN_ROWS]))
    df = convert(data).frame
    res = export(df, tmp_path / "oa", target="openai", test_size=1)
    assert res.skipped == {"tool_call_id_missing": 1}
    pair = {"kind": "preference", "id": "p", "source": "s", "meta": {},
            "prompt": [{"role": "user", "content": "Weather?"}],
            "chosen": [RECORD_TURNS[2]], "rejected": [{"role": "assistant", "content": "No."}]}
    pairs = records_to_frame([pair] + [{**pair, "id": f"q{i}", "prompt": [
        {"role": "user", "content": f"Weather on day {i}?"}], "chosen": [
        {"role": "assistant", "content": f"Sunny {i}."}]} for i in range(2)])
    assert export(pairs, tmp_path / "dpo", target="openai", task="dpo",
                  test_size=1).skipped == {"tool_calls_unsupported": 1}
    # TRL's DPO form takes them: the call is in the chosen reply
    res = export(pairs, tmp_path / "trl", target="trl-dpo", test_size=1)
    assert res.skipped == {}
    written = [json.loads(line) for s in ("train", "test")
               for line in (tmp_path / "trl" / f"{s}.jsonl").read_text().splitlines()]
    assert [r["chosen"] for r in written if r["id"] == "p"] == [[RECORD_TURNS[2]]]


def test_an_export_without_calls_writes_plain_turns(tmp_path):
    data = tmp_path / "plain.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in PLAIN_ROWS))
    df = convert(data).frame
    assert df.schema["messages"] == MESSAGES
    export(df, tmp_path / "o", target="trl-sft", test_size=1)
    assert pl.read_parquet(tmp_path / "o" / "train.parquet").schema["messages"] == pl.List(
        PLAIN_MESSAGE)
    line = (tmp_path / "o" / "train.jsonl").read_text().splitlines()[0]
    assert set(json.loads(line)["messages"][0]) == {"role", "content"}
