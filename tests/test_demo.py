"""The README's main job: pipelines/demo.yaml on the shipped corpus (pipelines/data/README.md
lists what is planted in it)."""

import json
from pathlib import Path

import datasets
import polars as pl

from curate.recipe import load_recipe
from curate.runner import run_recipe

REPO = Path(__file__).resolve().parents[1]


def test_demo_recipe_removes_exactly_what_was_planted(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    out = tmp_path / "demo"
    manifest = run_recipe(load_recipe("pipelines/demo.yaml"), out,
                          recipe_file=REPO / "pipelines" / "demo.yaml")
    stages = {s["name"]: (s["rows_in"], s["rows_out"], s["dropped"]) for s in manifest["stages"]}
    assert stages == {
        "convert": (326, 317, {"empty_turn": 3, "invalid_json": 2, "missing_field": 1,
                               "not_a_question": 2, "wrong_type": 1}),
        "dedup.exact": (317, 292, {"duplicate_exact": 25}),
        "dedup.near": (292, 282, {"duplicate_near": 10}),
        "quality.rules": (282, 267, {"junk": 3, "refusal": 5, "repetition": 3,
                                     "role_order": 2, "too_short": 2}),
        "safety.toxicity": (267, 261, {"toxic": 6}),
        "safety.bias": (261, 259, {"toxic_about_group": 2}),
    }
    # the planted near copies (pipelines/data/README.md), by file and line
    near = pl.read_parquet(out / "rejected" / "02_dedup.near.parquet")
    planted = {("alpaca.jsonl", 73), ("alpaca.jsonl", 96), ("alpaca.jsonl", 101),
               ("alpaca.jsonl", 117), ("openai.jsonl", 17), ("openai.jsonl", 37),
               ("openai.jsonl", 46)}
    where = {(m["file"], m["line"]) for m in map(json.loads, near["meta"])}
    assert planted <= where and len(where) == 10
    toxicity = next(s for s in manifest["stages"] if s["name"] == "safety.toxicity")
    assert toxicity["stats"]["scorer"]["scorer"] == "profanity-check"
    assert toxicity["thresholds"]["max"] == 0.9      # auto: profanity-check's measured default
    bias = json.loads((out / "bias.json").read_text())
    # the audit covers the whole run: every record after convert, every stage's removals
    assert bias["scope"] == "run" and bias["overall"]["records_in"] == 317
    assert bias["overall"]["records_out"] == 259
    assert sum(bias["overall"]["removed_by"].values()) == 317 - 259
    assert bias["groups"]["gender/women"]["records_out"] == 1
    immigrants = bias["groups"]["nationality/immigrants"]
    assert (immigrants["records_in"], immigrants["records_out"], immigrants["removed_by"]) == (
        1, 0, {"toxic_about_group": 1})
    final = pl.read_parquet(out / "data.parquet")
    assert final.group_by("kind").len().sort("kind").rows() == [("preference", 68), ("sft", 191)]

    exports = {e["target"]: e for e in manifest["exports"]}
    assert sum(exports["trl-sft"]["counts"].values()) == 191
    assert exports["trl-sft"]["skipped"] == {"wrong_kind": 68}
    assert exports["trl-dpo"]["skipped"] == {"wrong_kind": 191}
    assert sum(exports["trl-dpo"]["counts"].values()) == 68
    for target, columns in (("trl-sft", ["id", "messages"]),
                            ("trl-dpo", ["id", "prompt", "chosen", "rejected"])):
        # a fresh cache: datasets caches a local folder by its name alone
        loaded = datasets.load_dataset(str(out / "export" / target),
                                       cache_dir=str(tmp_path / "hf-cache"))
        assert sorted(loaded) == ["test", "train"]
        assert loaded["train"].column_names == columns
        assert loaded["train"].num_rows == exports[target]["counts"]["train"]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in report and "duplicate_exact" in report and "profanity-check" in report
    assert json.loads((out / "manifest.json").read_text())["status"] == "done"
