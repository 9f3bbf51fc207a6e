"""pipelines/prompts-to-dpo.yaml on the packaged model: prompts -> 2 candidates -> the
checklist judge -> best-vs-worst pairs -> TRL DPO. Asserts structure and accounting (what the
small model prefers is not asserted), and that a rerun sends nothing."""

import json
from pathlib import Path

import datasets
import polars as pl

from curate.recipe import load_recipe
from curate.runner import run_recipe

from .llm.packaged import need_packaged_model

REPO = Path(__file__).resolve().parents[1]
RECIPE = "pipelines/prompts-to-dpo.yaml"


def test_prompts_to_dpo_recipe(tmp_path, monkeypatch):
    need_packaged_model()
    monkeypatch.chdir(REPO)
    out = tmp_path / "dpo"
    manifest = run_recipe(load_recipe(RECIPE), out, recipe_file=REPO / RECIPE)
    convert, generate, judge, pairs = manifest["stages"]
    assert convert["rows_out"] == 8 and generate["rows_in"] == 8
    for stage in manifest["stages"]:
        assert stage["rows_in"] == stage["rows_out"] + sum(stage["dropped"].values())
    assert set(judge["dropped"]) <= {"unparseable", "judge_failed"}
    assert set(pairs["dropped"]) <= {"too_few_candidates", "unparseable", "equal_texts", "tie",
                                     "below_margin"}
    stats = judge["stats"]
    assert stats["mode"] == "checklist" and stats["template_version"] == "judge-v2"
    # every candidate of every judged row asked 4 questions, one request each
    assert stats["requests"] == 2 * 4 * generate["rows_out"]
    judged = pl.read_parquet(out / judge["checkpoint"])
    assert all(len(c) == 2 for c in judged["judge_candidates"])
    data = pl.read_parquet(out / "data.parquet")
    assert data.height == pairs["rows_out"] and set(data["kind"]) <= {"preference"}
    for row in data.iter_rows(named=True):
        pair = json.loads(row["meta"])["pair"]
        assert pair["source"] == "judge" and pair["mode"] == "checklist"
        assert row["chosen_score"] > row["rejected_score"]
        assert row["chosen"][0]["content"] != row["rejected"][0]["content"]
        assert row["prompt"][-1]["role"] == "user"
    assert data.height >= 1  # 4 here (2 ties, 1 unreadable, 1 with one reply unreadable)
    export = out / "export" / "trl-dpo"
    ds = datasets.load_dataset("parquet", data_files=str(export / "train.parquet"),
                               cache_dir=str(tmp_path / "hf"))["train"]
    assert ds.column_names[:4] == ["id", "prompt", "chosen", "rejected"]
    card = (export / "README.md").read_text()
    assert f"| judge smollm2-135m-instruct (template judge-v2) | {data.height} |" in card
    assert "share of yes" in (out / "report.html").read_text()
    again = run_recipe(load_recipe(RECIPE), out, recipe_file=REPO / RECIPE)
    assert again["stages"][1]["stats"]["requests"] == 0
    assert again["stages"][2]["stats"]["requests"] == 0
    assert pl.read_parquet(out / "data.parquet").equals(data)
