"""Axolotl, LLaMA-Factory and OpenAI exports: loaded with `datasets`, their side files checked
against the files written, and converted back (with curate's own readers where they exist)."""

from __future__ import annotations

import json

import polars as pl
import pytest
import yaml

from curate.convert import convert
from curate.export import export
from curate.records import frame_to_records

from .loading import load_all, rows


def _records(b):
    recs = [b.sft(f"Question {i}?", f"Answer {i}.", "a" if i % 2 else "b") for i in range(10)]
    recs.append(b.sft("Ünïcode — 日本語?", "はい ✓", "a", system="Be brief."))
    recs.append({"kind": "sft", "source": "a", "meta": {}, "messages": b.turns(
        ("system", "S"), ("user", "u1"), ("assistant", "a1"), ("user", "u2"), ("assistant", "a2"))})
    return recs


def _tool(b):
    return {"kind": "sft", "source": "b", "meta": {}, "messages": b.turns(
        ("user", "Weather?"), ("assistant", "Checking."), ("tool", '{"sky": "sun"}'),
        ("assistant", "Sunny."))}


def _pairs(b):
    recs = [b.pref(f"Prompt {i}", f"good {i}", f"bad {i}", "c" if i % 2 else "d")
            for i in range(8)]
    recs.append({"kind": "preference", "source": "c", "meta": {},
                 "prompt": b.turns(("system", "Sys"), ("user", "u1"), ("assistant", "a1"),
                                   ("user", "u2")),
                 "chosen": b.turns(("assistant", "yes ✓")), "rejected": b.turns(("assistant", "no"))})
    return recs


def _multi_reply(b):
    return b.pref("P", "c", "r") | {"chosen": b.turns(("assistant", "c1"), ("assistant", "c2"))}


def _sorted(items):
    return sorted(items, key=lambda x: json.dumps(x, ensure_ascii=False))


def _messages(df):
    return _sorted(r["messages"] for r in frame_to_records(df.filter(kind="sft")))


def _convert_back(out, fmt):
    frames = [convert(out / f"{s}.jsonl", format=fmt).frame for s in ("train", "test")]
    return _sorted(r["messages"] for r in frame_to_records(pl.concat(frames)))


# --- axolotl -------------------------------------------------------------------------------------

def test_axolotl_sft_files_and_yaml(b, tmp_path):
    df = b.frame(_records(b) + [_tool(b)] + _pairs(b)[:2])
    out = tmp_path / "ax"
    res = export(df, out, target="axolotl", test_size=2, formats=["jsonl"], chat_template="llama-3")
    assert res.skipped == {"wrong_kind": 2}
    assert [p.name for p in res.files] == ["train.jsonl", "test.jsonl", "axolotl.yaml", "README.md"]
    text = (out / "axolotl.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Axolotl dataset settings for this export, written by curate.\n")
    entry = {"ds_type": "json", "split": "train", "type": "chat_template",
             "chat_template": "llama3", "field_messages": "messages",
             "message_property_mappings": {"role": "role", "content": "content"},
             "roles_to_train": ["assistant"]}
    assert yaml.safe_load(text) == {
        "chat_template": "llama3",
        "datasets": [{"path": "train.jsonl", **entry}],
        "test_datasets": [{"path": "test.jsonl", **entry}]}
    ds = load_all(out, res.counts, tmp_path / "c", formats=("jsonl",))
    for how, d in ds.items():
        assert _sorted(r["messages"] for r in rows(d)) == _messages(df), how
    assert _convert_back(out, "openai") == _messages(df)  # the files read as chat messages


def test_axolotl_dpo(b, tmp_path):
    df = b.frame(_pairs(b) + [_multi_reply(b)])
    out = tmp_path / "ax"
    res = export(df, out, target="axolotl", task="dpo", test_size=2)
    assert res.skipped == {"multi_turn_reply": 1}
    config = yaml.safe_load((out / "axolotl.yaml").read_text(encoding="utf-8"))
    assert config["rl"] == "dpo" and config["chat_template"] == "chatml"
    assert config["datasets"] == [{
        "path": "train.parquet", "ds_type": "parquet", "split": "train",
        "type": "chat_template.default", "field_messages": "messages", "field_chosen": "chosen",
        "field_rejected": "rejected",
        "message_property_mappings": {"role": "role", "content": "content"}}]
    want = {r["id"]: r for r in frame_to_records(df.head(9))}
    for how, d in load_all(out, res.counts, tmp_path / "c").items():
        for row in rows(d):
            w = want[row["id"]]
            assert (row["messages"], [row["chosen"]], [row["rejected"]]) == (
                w["prompt"], w["chosen"], w["rejected"]), how


# --- llama-factory -------------------------------------------------------------------------------

def test_llama_factory_sharegpt_sft(b, tmp_path):
    bad_order = {"kind": "sft", "source": "a", "meta": {}, "messages": b.turns(
        ("user", "a"), ("user", "b"), ("assistant", "c"))}
    df = b.frame(_records(b) + [_tool(b), bad_order])
    out = tmp_path / "lf"
    res = export(df, out, target="llama-factory", test_size=3)
    assert res.skipped == {"bad_turn_order": 1}
    info = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    assert sorted(info) == ["curate_test", "curate_test_jsonl", "curate_train",
                            "curate_train_jsonl"]
    assert info["curate_train"] == {
        "file_name": "train.parquet", "formatting": "sharegpt",
        "columns": {"messages": "conversations"},
        "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human",
                 "assistant_tag": "gpt", "observation_tag": "observation",
                 "function_tag": "function_call", "system_tag": "system"}}
    assert info["curate_test_jsonl"]["file_name"] == "test.jsonl"
    for entry in info.values():
        assert (out / entry["file_name"]).is_file()
    tool = next(r for r in rows(load_all(out, res.counts, tmp_path / "c")["jsonl"])
                if len(r["conversations"]) == 4)
    assert [t["from"] for t in tool["conversations"]] == ["human", "gpt", "observation", "gpt"]
    kept = df.filter(pl.col("id") != df["id"][-1])
    assert _convert_back(out, "sharegpt") == _messages(kept)


def test_llama_factory_alpaca_sft_refuses_tool_turns(b, tmp_path):
    df = b.frame(_records(b) + [_tool(b)])
    out = tmp_path / "lf"
    res = export(df, out, target="llama-factory", style="alpaca", test_size=2,
                 dataset_name="mine")
    assert res.skipped == {"invalid_role": 1}
    info = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["mine_train"] == {"file_name": "train.parquet", "formatting": "alpaca",
                                  "columns": {"prompt": "instruction", "query": "input",
                                              "response": "output", "system": "system",
                                              "history": "history"}}
    multi = [r for r in rows(load_all(out, res.counts, tmp_path / "c")["parquet"])
             if r["history"]]
    assert [(r["system"], r["history"], r["instruction"], r["output"]) for r in multi] == [
        ("S", [["u1", "a1"]], "u2", "a2")]
    assert _convert_back(out, "alpaca") == _messages(df.head(12))


@pytest.mark.parametrize("style", ["sharegpt", "alpaca"])
def test_llama_factory_ranking(b, tmp_path, style):
    odd = b.pref("p", "c", "r") | {"prompt": b.turns(("user", "a"), ("user", "b"))}
    df = b.frame(_pairs(b) + [_multi_reply(b), odd])
    out = tmp_path / style
    res = export(df, out, target="llama-factory", style=style, task="dpo", test_size=2)
    assert res.skipped == {"bad_turn_order": 1, "multi_turn_reply": 1}
    info = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["curate_train"]["ranking"] is True
    assert info["curate_train"]["columns"]["chosen"] == "chosen"
    want = {r["id"]: r for r in frame_to_records(df.head(9))}
    role = {"human": "user", "gpt": "assistant", "system": "system", "observation": "tool"}
    for how, d in load_all(out, res.counts, tmp_path / "c").items():
        for row in rows(d):
            w = want[row["id"]]
            if style == "sharegpt":
                assert len(row["conversations"]) % 2 == (0 if w["prompt"][0]["role"] == "system"
                                                         else 1)
                prompt = [{"role": role[t["from"]], "content": t["value"]}
                          for t in row["conversations"]]
                chosen, rejected = row["chosen"]["value"], row["rejected"]["value"]
                assert row["chosen"]["from"] == "gpt"
            else:
                prompt = ([{"role": "system", "content": row["system"]}] if row["system"] else [])
                for u, a in row["history"]:
                    prompt += [{"role": "user", "content": u}, {"role": "assistant", "content": a}]
                prompt.append({"role": "user", "content": row["instruction"]})
                chosen, rejected = row["chosen"], row["rejected"]
            assert (prompt, chosen, rejected) == (
                w["prompt"], w["chosen"][0]["content"], w["rejected"][0]["content"]), how


# --- openai --------------------------------------------------------------------------------------

def test_openai_chat_jsonl(b, tmp_path):
    df = b.frame(_records(b) + [_tool(b)] + _pairs(b)[:1])
    out = tmp_path / "oa"
    res = export(df, out, target="openai", test_size=2)
    assert res.skipped == {"tool_call_id_missing": 1, "wrong_kind": 1}  # a tool turn, no id
    assert sorted(p.name for p in out.iterdir()) == [".curate.json", "README.md", "test.jsonl",
                                                     "train.jsonl"]
    first = json.loads((out / "train.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert list(first) == ["messages"]
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "path: train.jsonl" in card and 'load_dataset("json"' in card
    for how, d in load_all(out, res.counts, tmp_path / "c", formats=("jsonl",)).items():
        assert _sorted(r["messages"] for r in rows(d)) == _messages(df.head(12)), how
    assert _convert_back(out, "openai") == _messages(df.head(12))


def test_openai_preference_jsonl(b, tmp_path):
    df = b.frame(_pairs(b) + [_multi_reply(b)])
    out = tmp_path / "oa"
    res = export(df, out, target="openai", task="dpo", test_size=2)
    assert res.skipped == {"multi_turn_reply": 1}
    want = _sorted((r["prompt"], r["chosen"], r["rejected"]) for r in frame_to_records(df.head(9)))
    got = []
    for split in ("train", "test"):
        for line in (out / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert list(row) == ["input", "preferred_output", "non_preferred_output"]
            got.append((row["input"]["messages"], row["preferred_output"],
                        row["non_preferred_output"]))
    assert _sorted(got) == want


def test_openai_writes_only_jsonl(b, tmp_path):
    from curate.errors import CurateError

    with pytest.raises(CurateError, match="target 'openai' writes jsonl, not parquet"):
        export(b.frame(_records(b)), tmp_path / "o", target="openai", formats=["parquet"])
