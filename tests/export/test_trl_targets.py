"""The TRL targets, loaded with `datasets` and read with TRL's own trl.data_utils
(is_conversational, apply_chat_template) on a tokenizer built locally with a shipped template;
converting the loaded rows back gives every turn of every record."""

from __future__ import annotations

import polars as pl
import pytest
from trl.data_utils import apply_chat_template, is_conversational

from curate.errors import CurateError
from curate.export import export
from curate.export.templates import local_tokenizer
from curate.records import frame_to_records

from .loading import load_all, rows


def _records(b):
    recs = b.sample_sft(16, every=3, tool=True)
    recs += [b.pref(f"Prompt {i}", f"good answer {i}", f"bad answer {i}", "c" if i % 2 else "d")
             for i in range(14)]
    recs.append({"kind": "preference", "source": "c", "meta": {},
                 "prompt": b.turns(("system", "Sys"), ("user", "u1"), ("assistant", "a1"),
                                   ("user", "u2 — ünï")),
                 "chosen": b.turns(("assistant", "chosen ✓")),
                 "rejected": b.turns(("assistant", "rejected ✗"))})
    return recs


@pytest.fixture
def df(b):
    return b.frame(_records(b))


@pytest.fixture(scope="module")
def tok():
    return local_tokenizer("chatml")


def _by_id(df, kind):
    return {r["id"]: r for r in frame_to_records(df.filter(kind=kind))}


def test_sft_messages(df, tok, tmp_path):
    res = export(df, tmp_path / "o", target="trl-sft", test_size=3, validation_size=2)
    assert res.counts == {"train": 13, "validation": 2, "test": 3}
    want = {i: r["messages"] for i, r in _by_id(df, "sft").items()}
    for how, ds in load_all(tmp_path / "o", res.counts, tmp_path / "c").items():
        got = rows(ds)
        assert {r["id"]: r["messages"] for r in got} == want, how
        for row in got:
            assert is_conversational(row)
            text = apply_chat_template(row, tok)["text"]
            assert text == tok.apply_chat_template(want[row["id"]], tokenize=False)
            assert text.count("<|im_start|>") == len(want[row["id"]])


def test_sft_prompt_completion_from_pairs(df, tok, tmp_path):
    res = export(df, tmp_path / "o", target="trl-sft", test_size=4,
                 sft_format="prompt-completion", sft_from_pairs=True)
    assert sum(res.counts.values()) == 33 and res.skipped == {}
    sft, pairs = _by_id(df, "sft"), _by_id(df, "preference")
    for how, ds in load_all(tmp_path / "o", res.counts, tmp_path / "c").items():
        got = rows(ds)
        assert ds["train"].column_names == ["id", "prompt", "completion"]
        back = {r["id"]: r["prompt"] + r["completion"] for r in got}
        assert back == {**{i: r["messages"] for i, r in sft.items()},
                        **{i: r["prompt"] + r["chosen"] for i, r in pairs.items()}}, how
        for row in got:
            assert is_conversational(row)
            out = apply_chat_template(row, tok)
            whole = tok.apply_chat_template(back[row["id"]], tokenize=False)
            assert out["prompt"] + out["completion"] == whole
            assert out["prompt"].endswith("<|im_start|>assistant\n")


def test_dpo(df, tok, tmp_path):
    res = export(df, tmp_path / "o", target="trl-dpo", test_size=0.2, seed=2)
    assert res.counts == {"train": 12, "test": 3} and res.skipped == {"wrong_kind": 18}
    want = _by_id(df, "preference")
    for how, ds in load_all(tmp_path / "o", res.counts, tmp_path / "c").items():
        for row in rows(ds):
            w = want[row["id"]]
            assert (row["prompt"], row["chosen"], row["rejected"]) == (
                w["prompt"], w["chosen"], w["rejected"]), how
            assert is_conversational(row)
            out = apply_chat_template(row, tok)
            assert out["prompt"] + out["chosen"] == tok.apply_chat_template(
                w["prompt"] + w["chosen"], tokenize=False)
            assert out["prompt"].endswith("<|im_start|>assistant\n")
            assert out["rejected"] == f"{w['rejected'][0]['content']}<|im_end|>\n"


def test_reward_implicit_prompt(df, tok, tmp_path):
    res = export(df, tmp_path / "o", target="trl-reward", test_size=3)
    want = _by_id(df, "preference")
    for how, ds in load_all(tmp_path / "o", res.counts, tmp_path / "c").items():
        assert ds["train"].column_names == ["id", "chosen", "rejected"]
        for row in rows(ds):
            w = want[row["id"]]
            n = len(w["prompt"])  # convert back: the shared prefix is the prompt
            shared = next(i for i, (c, r) in enumerate(zip(row["chosen"], row["rejected"]))
                          if c != r)
            assert shared == n
            assert (row["chosen"][:n], row["chosen"][n:], row["rejected"][n:]) == (
                w["prompt"], w["chosen"], w["rejected"]), how
            assert is_conversational(row)
            out = apply_chat_template(row, tok)
            assert set(out) == {"chosen", "rejected"}
            assert out["chosen"] == tok.apply_chat_template(row["chosen"], tokenize=False)


def test_kto_from_pairs_and_labels(b, tok, tmp_path):
    recs = _records(b)
    for i, r in enumerate(recs[:18]):  # SFT rows: accept/reject labels, one unlabelled
        r["label_accept"] = [True, False, None][i % 3]
    df = b.frame(recs).with_columns(label_accept=pl.Series([r.get("label_accept") for r in recs]))
    res = export(df, tmp_path / "o", target="trl-kto", test_size=4)
    assert res.skipped == {"no_label": 6}
    assert sum(res.counts.values()) == 12 + 2 * 15
    want_pairs = _by_id(df, "preference")
    labels = {r["id"]: r for r in frame_to_records(df.filter(kind="sft"))}
    for how, ds in load_all(tmp_path / "o", res.counts, tmp_path / "c").items():
        got = rows(ds)
        assert ds["train"].features["label"].dtype == "bool", how
        pairs: dict[str, dict] = {}
        for row in got:
            assert is_conversational(row)
            out = apply_chat_template(row, tok)
            assert out["label"] is row["label"]
            if ":" in row["id"]:
                pid, side = row["id"].split(":")
                assert row["label"] is (side == "chosen")
                p = pairs.setdefault(pid, {"prompt": row["prompt"]})
                p["chosen" if row["label"] else "rejected"] = row["completion"]
            else:
                src = labels[row["id"]]
                assert row["prompt"] + row["completion"] == src["messages"]
                assert row["label"] is src["label_accept"]
        assert pairs == {i: {k: w[k] for k in ("prompt", "chosen", "rejected")}
                         for i, w in want_pairs.items()}, how


def test_kto_string_labels_and_custom_column(b, tmp_path):
    df = b.frame([b.sft(f"q{i}", f"a{i}") for i in range(8)]).with_columns(
        verdict=pl.Series(["accept", "Rejected", "YES", "no", "maybe", None, "good", "bad"]))
    res = export(df, tmp_path / "o", target="trl-kto", test_size=1, label_column="verdict")
    assert res.skipped == {"no_label": 2}
    got = pl.concat([pl.read_parquet(p) for p in (tmp_path / "o").glob("*.parquet")])
    ids = df["id"].to_list()
    assert dict(zip(got["id"].to_list(), got["label"].to_list())) == {
        ids[0]: True, ids[1]: False, ids[2]: True, ids[3]: False, ids[6]: True, ids[7]: False}


def test_kto_reads_label_pulls_verdict_by_default(b, tmp_path):
    df = b.frame([b.sft(f"q{i}", f"a{i}") for i in range(4)]).with_columns(
        label_verdict=pl.Series(["accept", "reject", None, "accept"]))
    res = export(df, tmp_path / "o", target="trl-kto", test_size=1)
    assert res.skipped == {"no_label": 1}
    got = pl.concat([pl.read_parquet(p) for p in (tmp_path / "o").glob("*.parquet")])
    ids = df["id"].to_list()
    assert dict(zip(got["id"].to_list(), got["label"].to_list())) == {
        ids[0]: True, ids[1]: False, ids[3]: True}


def test_sft_option_values_are_checked(df, tmp_path):
    with pytest.raises(CurateError, match="option sft_format must be one of messages, "
                                          "prompt-completion, not 'chat'"):
        export(df, tmp_path / "o", target="trl-sft", sft_format="chat")
