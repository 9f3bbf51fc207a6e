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
        "quality.rules": (292, 277, {"junk": 3, "refusal": 5, "repetition": 3,
                                     "role_order": 2, "too_short": 2}),
    }
    final = pl.read_parquet(out / "data.parquet")
    assert final.group_by("kind").len().sort("kind").rows() == [("preference", 68), ("sft", 209)]

    exports = {e["target"]: e for e in manifest["exports"]}
    assert sum(exports["trl-sft"]["counts"].values()) == 209
    assert exports["trl-sft"]["skipped"] == {"wrong_kind": 68}
    assert sum(exports["trl-dpo"]["counts"].values()) == 68
    for target, columns in (("trl-sft", ["id", "messages"]),
                            ("trl-dpo", ["id", "prompt", "chosen", "rejected"])):
        loaded = datasets.load_dataset(str(out / "export" / target))
        assert sorted(loaded) == ["test", "train"]
        assert loaded["train"].column_names == columns
        assert loaded["train"].num_rows == exports[target]["counts"]["train"]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in report and "duplicate_exact" in report
    assert json.loads((out / "manifest.json").read_text())["status"] == "done"
