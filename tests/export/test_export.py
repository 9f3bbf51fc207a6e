from __future__ import annotations

import json

import datasets
import polars as pl
import pytest
import yaml

from curate.errors import CurateError
from curate.export import TARGETS, export
from curate.records import frame_to_records


def _load_all(out_dir, splits, cache):
    """The export loaded the three ways a user would: parquet files, jsonl files, the folder."""
    parquet = {s: str(out_dir / f"{s}.parquet") for s in splits}
    jsonl = {s: str(out_dir / f"{s}.jsonl") for s in splits}
    return {
        "parquet": datasets.load_dataset("parquet", data_files=parquet,
                                         cache_dir=str(cache / "p")),
        "json": datasets.load_dataset("json", data_files=jsonl, cache_dir=str(cache / "j")),
        "dir": datasets.load_dataset(str(out_dir), cache_dir=str(cache / "d")),
    }


def _sft_records(b):
    return b.sample_sft(36)


def _pairs(b, n=24):
    return [b.pref(f"Prompt {i}", f"good answer {i}", f"bad answer {i}", "c" if i % 3 else "d")
            for i in range(n)]


def test_targets_listed():
    assert TARGETS == ("trl-sft", "trl-dpo", "trl-kto", "trl-reward", "axolotl", "llama-factory",
                       "openai")


def test_trl_sft_round_trip(b, tmp_path):
    df = b.frame(_sft_records(b) + _pairs(b, 5))
    out = tmp_path / "sft"
    res = export(df, out, target="trl-sft", test_size=0.1, validation_size=4, seed=3)
    assert res.target == "trl-sft" and res.out_dir == out
    assert res.counts == {"train": 30, "validation": 4, "test": 4}
    assert res.skipped == {"wrong_kind": 5}
    assert res.rejected.height == 5
    assert res.rejected["drop_reason"].to_list() == ["wrong_kind"] * 5
    assert res.files == [out / f"{s}.{e}" for s in ("train", "validation", "test")
                         for e in ("parquet", "jsonl")] + [out / "README.md"]
    expected = {r["id"]: r["messages"] for r in frame_to_records(df.filter(kind="sft"))}
    for how, ds in _load_all(out, ("train", "validation", "test"), tmp_path / "cache").items():
        assert {s: ds[s].num_rows for s in ds} == res.counts, how
        assert ds["train"].column_names == ["id", "messages"], how
        got = {}
        for split in ds:
            for row in ds[split]:
                got[row["id"]] = row["messages"]
        assert got == expected, how


def test_trl_dpo_round_trip(b, tmp_path):
    pairs = _pairs(b)
    pairs.append({"kind": "preference", "source": "c", "meta": {},
                  "prompt": b.turns(("system", "Sys"), ("user", "u1"), ("assistant", "a1"),
                                    ("user", "u2 — ünï")),
                  "chosen": b.turns(("assistant", "chosen ✓")),
                  "rejected": b.turns(("assistant", "rejected ✗"))})
    df = b.frame(pairs + _sft_records(b)[:3])
    out = tmp_path / "dpo"
    res = export(df, out, target="trl-dpo", test_size=5, seed=0)
    assert res.counts == {"train": 20, "test": 5}
    assert res.skipped == {"wrong_kind": 3}
    cols = ["id", "prompt", "chosen", "rejected"]
    expected = {r["id"]: {c: r[c] for c in cols[1:]}
                for r in frame_to_records(df.filter(kind="preference"))}
    for how, ds in _load_all(out, ("train", "test"), tmp_path / "cache").items():
        assert ds["test"].column_names == cols, how
        got = {row["id"]: {c: row[c] for c in cols[1:]} for s in ds for row in ds[s]}
        assert got == expected, how


def test_sft_from_pairs(b, tmp_path):
    df = b.frame(_pairs(b, 10) + [b.pref("same?", "Yes.", " yes. "), b.sft("q", "a", "c")])
    res = export(df, tmp_path / "o", target="trl-sft", test_size=2, sft_from_pairs=True)
    assert res.counts == {"train": 9, "test": 2}
    assert res.skipped == {"chosen_equals_rejected": 1}
    rows = pl.concat([pl.read_parquet(tmp_path / "o" / f"{s}.parquet") for s in ("train", "test")])
    (pair,) = frame_to_records(df.filter(pl.col("source") == "c", kind="preference").head(1))
    assert rows.filter(id=pair["id"])["messages"].to_list() == [pair["prompt"] + pair["chosen"]]


def _written_ids(out_dir):
    ids = set()
    for path in out_dir.glob("*.jsonl"):
        ids |= {json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()}
    for path in out_dir.glob("*.parquet"):
        ids |= set(pl.read_parquet(path)["id"].to_list())
    return ids


def test_sft_rows_failing_checks_are_skipped(b, tmp_path):
    good = [b.sft(f"q{i}", f"a{i}") for i in range(10)]
    bad = {
        "empty_turn": b.sft("question", "   \n"),
        "invalid_role": {"kind": "sft", "source": "a", "meta": {}, "messages": b.turns(
            ("user", "hi"), ("bot", "hello"), ("assistant", "x"))},
        "bad_turn_order": b.sft("hi", "x") | {"messages": b.turns(("user", "no reply"))},
        "late_system": {"kind": "sft", "source": "a", "meta": {}, "messages": b.turns(
            ("user", "hi"), ("system", "obey"), ("assistant", "x"))},
        "no_user": {"kind": "sft", "source": "a", "meta": {}, "messages": b.turns(
            ("system", "s"), ("assistant", "x"))},
        "null_messages": {"kind": "sft", "source": "a", "meta": {}, "messages": None},
        "null_content": {"kind": "sft", "source": "a", "meta": {}, "messages": [
            {"role": "user", "content": None}, {"role": "assistant", "content": "x"}]},
    }
    df = b.frame(good + list(bad.values()))
    res = export(df, tmp_path / "o", target="trl-sft", test_size=2)
    reasons = dict(zip(res.rejected["id"].to_list(), res.rejected["drop_reason"].to_list()))
    assert list(reasons.values()) == ["empty_turn", "invalid_role", "bad_turn_order",
                                      "bad_turn_order", "bad_turn_order", "empty_turn",
                                      "empty_turn"]
    assert res.skipped == {"bad_turn_order": 3, "empty_turn": 3, "invalid_role": 1}
    assert res.counts == {"train": 8, "test": 2}
    assert res.rejected.columns == df.columns + ["drop_reason"]
    assert _written_ids(tmp_path / "o") == set(df["id"].to_list()[:10])


def test_dpo_rows_failing_checks_are_skipped(b, tmp_path):
    good = _pairs(b, 10)
    bad = [
        b.pref("p", "Same answer.", "  same   ANSWER. "),                       # equal
        b.pref("p2", "c", "r") | {"chosen": b.turns(("user", "c"))},              # role
        b.pref("p3", "c", "r") | {"prompt": b.turns(("user", "u"), ("assistant", "a"))},  # order
        b.pref("p4", "c", "r") | {"rejected": b.turns(("assistant", ""))},        # empty
        b.pref("p5", "c", "r") | {"prompt": None},                                # empty
        b.pref("p6", "c", "r") | {"chosen": b.turns(("assistant", "c"), ("tool", "t"))},  # order
    ]
    df = b.frame(good + bad)
    res = export(df, tmp_path / "o", target="trl-dpo", test_size=0.2)
    assert res.rejected["drop_reason"].to_list() == [
        "chosen_equals_rejected", "invalid_role", "bad_turn_order", "empty_turn", "empty_turn",
        "bad_turn_order"]
    assert res.skipped == {"bad_turn_order": 2, "chosen_equals_rejected": 1, "empty_turn": 2,
                           "invalid_role": 1}
    assert res.counts == {"train": 8, "test": 2}
    assert _written_ids(tmp_path / "o") == set(df["id"].to_list()[:10])


def test_no_rejected_rows_gives_an_empty_frame(b, tmp_path):
    df = b.frame(_pairs(b, 10))
    res = export(df, tmp_path / "o", target="trl-dpo")
    assert res.skipped == {}
    assert res.rejected.height == 0
    assert res.rejected.columns == df.columns + ["drop_reason"]


def test_jsonl_is_utf8_with_raw_non_ascii(b, tmp_path):
    df = b.frame([b.sft(f"q{i}", "café ✓ 日本") for i in range(10)])
    export(df, tmp_path / "o", target="trl-sft", test_size=1)
    text = (tmp_path / "o" / "train.jsonl").read_text(encoding="utf-8")
    assert "café ✓ 日本" in text and "\\u" not in text
    assert len(text.splitlines()) == 9


def test_groups_stay_in_one_file(b, tmp_path):
    records = [b.sft("Shared prompt", f"r{i}") if i < 4 else b.sft(f"q{i}", "r")
               for i in range(40)]
    records[1]["messages"][0]["content"] = "  shared   PROMPT "
    df = b.frame(records)
    shared = set(df["id"].to_list()[:4])
    for seed in range(8):
        out = tmp_path / str(seed)
        export(df, out, target="trl-sft", test_size=0.25, seed=seed)
        holders = [s for s in ("train", "test")
                   if shared & set(pl.read_parquet(out / f"{s}.parquet")["id"].to_list())]
        assert len(holders) == 1


def test_reexport_removes_stale_split_files(b, tmp_path):
    df = b.frame(_pairs(b, 20))
    out = tmp_path / "o"
    export(df, out, target="trl-dpo", validation_size=2)
    assert (out / "validation.parquet").exists()
    res = export(df, out, target="trl-dpo")
    assert sorted(p.name for p in out.iterdir()) == [
        ".curate.json", "README.md", "test.jsonl", "test.parquet", "train.jsonl",
        "train.parquet"]
    card = yaml.safe_load((out / "README.md").read_text(encoding="utf-8").split("---")[1])
    assert card["configs"][0]["data_files"] == [{"split": "train", "path": "train.parquet"},
                                                {"split": "test", "path": "test.parquet"}]
    assert res.counts == {"train": 18, "test": 2}


def test_unknown_target(b, tmp_path):
    with pytest.raises(CurateError, match=r"unknown export target 'unsloth'; known targets: "
                                          r"trl-sft, trl-dpo, trl-kto, trl-reward, axolotl, "
                                          r"llama-factory, openai$"):
        export(b.frame(_pairs(b, 5)), tmp_path / "o", target="unsloth")
    assert not (tmp_path / "o").exists()


def test_unknown_option(b, tmp_path):
    with pytest.raises(CurateError, match=r"target 'trl-dpo' has no option\(s\) sft_from_pairs "
                                          r"\(its options: none\)"):
        export(b.frame(_pairs(b, 5)), tmp_path / "o", target="trl-dpo", sft_from_pairs=True)


def test_bad_test_size_writes_nothing(b, tmp_path):
    with pytest.raises(CurateError, match=r"test_size must be a fraction in \(0, 1\)"):
        export(b.frame(_pairs(b, 5)), tmp_path / "o", target="trl-dpo", test_size=1.5)
    with pytest.raises(CurateError, match=r"cannot split 5 rows with test_size=5"):
        export(b.frame(_pairs(b, 5)), tmp_path / "o", target="trl-dpo", test_size=5)
    assert not (tmp_path / "o").exists()


def test_nothing_to_export(b, tmp_path):
    with pytest.raises(CurateError, match=r"nothing to export to trl-dpo: none of the 3 rows "
                                          r"qualifies \(wrong_kind: 3\)"):
        export(b.frame([b.sft(f"q{i}", "a") for i in range(3)]), tmp_path / "o",
               target="trl-dpo")


def test_export_refuses_the_users_files_before_any_work(b, tmp_path):
    df = b.frame(b.sample_sft(6))
    (tmp_path / "README.md").write_text("mine\n")
    with pytest.raises(CurateError, match=r"README\.md was not written by curate; pass "
                                          r"--overwrite"):
        export(df, tmp_path, target="axolotl", test_size=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
    res = export(df, tmp_path, target="axolotl", test_size=1, overwrite=True)
    assert res.rows_out == 8
    assert "mine" not in (tmp_path / "README.md").read_text()
    assert json.loads((tmp_path / ".curate.json").read_text())["files"] == [
        "README.md", "axolotl.yaml", "test.jsonl", "test.parquet", "train.jsonl",
        "train.parquet"]


ROLE = {"s": "system", "u": "user", "a": "assistant", "t": "tool"}
SFT_ORDERS = {"ua": True, "sua": True, "uaua": True, "suata": True, "suatta": True,
              "uua": False, "uaa": False, "uta": False, "aua": False, "usa": False,
              "uat": False, "uauu": False}
PAIR_ORDERS = {("u", "a"): True, ("uau", "ata"): True, ("suu", "a"): False,
               ("ua", "a"): False, ("u", "aa"): False, ("u", "ta"): False}


def test_export_and_quality_rules_share_one_role_order(b, tmp_path):
    """`quality.rules` drops a conversation as role_order exactly when an export rejects it as
    bad_turn_order: one rule for both (a `user, user, assistant` turn list included)."""
    from curate.stages.quality import quality_rules

    def turns(codes, word):
        return b.turns(*[(ROLE[c], f"{word} turn {i} with enough text") for i, c in
                         enumerate(codes)])

    sft = [{"kind": "sft", "source": "a", "meta": {"order": o}, "messages": turns(o, "sft")}
           for o in SFT_ORDERS]
    pairs = [{"kind": "preference", "source": "b", "meta": {"order": f"{p}/{c}"},
              "prompt": turns(p, "prompt"), "chosen": turns(c, "good"),
              "rejected": turns(c, "bad")} for p, c in PAIR_ORDERS]
    df = b.frame(sft + pairs)
    order = {i: json.loads(m)["order"] for i, m in zip(df["id"], df["meta"])}
    kept_by_quality = {order[i] for i in quality_rules(df).kept["id"]}
    assert kept_by_quality == {o for o, ok in SFT_ORDERS.items() if ok} | {
        f"{p}/{c}" for (p, c), ok in PAIR_ORDERS.items() if ok}
    for target, kind in (("trl-sft", "sft"), ("trl-dpo", "preference")):
        res = export(df.filter(pl.col("kind") == kind), tmp_path / target, target=target,
                     test_size=1)
        skipped = {order[i]: r for i, r in zip(res.rejected["id"], res.rejected["drop_reason"])}
        assert set(skipped.values()) == {"bad_turn_order"}
        assert set(skipped) == {o for o in order.values() if o not in kept_by_quality
                                and ("/" in o) == (kind == "preference")}
