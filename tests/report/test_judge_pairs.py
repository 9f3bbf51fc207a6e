"""``judge.pairs`` in a recipe (a parquet of judged rows -> judge.pairs -> trl-dpo): the
manifest's accounting, the report section (margin histogram, reasons, pairs shown) and the
card's pair sources."""

from __future__ import annotations

import json

import datasets
import pytest

from curate.errors import RecipeError
from curate.recipe import parse_recipe
from curate.report import judge_pairs as section_module
from curate.runner import run_recipe

from ..stages.judged import comparison, judged, judged_frame, sft


def _judged_rows() -> list[dict]:
    rows = [judged(sft(f"How do I sort list {i}?", candidates=[
        f"Use sorted(list_{i}).", f"Call list_{i}.sort() to sort in place.", "Lists cannot."]),
        scores=[8.0 + i % 2, 6.0, 1.0 + (i % 3) * 3]) for i in range(8)]
    rows.append(judged(sft("Flip?", candidates=["x", "y"]),
                       comparisons=[comparison(0, 1, "a", "b")]))
    rows.append(judged(sft("Same?", candidates=["Yes.", "yes."]), scores=[9.0, 2.0]))
    rows.append(sft("Not judged."))
    return rows


@pytest.fixture
def run(tmp_path):
    path = tmp_path / "judged.parquet"
    judged_frame(_judged_rows()).write_parquet(path)
    recipe = parse_recipe({"name": "pairs", "input": {"path": str(path)},
                           "stages": [{"use": "judge.pairs", "with": {"min_margin": 3.0}}],
                           "export": [{"target": "trl-dpo", "test_size": 1}]})
    out = tmp_path / "out"
    return out, run_recipe(recipe, out)


def test_recipe_accounts_for_every_row_and_exports_the_pairs(run, tmp_path):
    out, manifest = run
    stage = manifest["stages"][1]
    # margins: i % 3 == 0 -> 7 or 8; 1 -> 4 or 5; 2 -> 1 or 2 (below 3)
    assert (stage["rows_in"], stage["rows_out"]) == (11, 6)
    assert stage["dropped"] == {"below_margin": 2, "equal_texts": 1,
                                "position_inconsistent": 1, "too_few_candidates": 1}
    assert stage["thresholds"] == {"min_margin": 3.0, "pairs": "best_worst"}
    assert stage["stats"]["sources"] == {"judge smollm2-135m-instruct (template judge-v1)": 6}
    export_dir = out / "export" / "trl-dpo"
    ds = datasets.load_dataset("parquet", data_files={
        s: str(export_dir / f"{s}.parquet") for s in ("train", "test")},
        cache_dir=str(tmp_path / "cache"))
    assert ds["train"].num_rows + ds["test"].num_rows == 6
    for row in list(ds["train"]) + list(ds["test"]):
        assert row["chosen"][0]["content"] != "Lists cannot."
        assert row["rejected"][0]["content"] == "Lists cannot."
    card = (export_dir / "README.md").read_text(encoding="utf-8")
    assert "| judge smollm2-135m-instruct (template judge-v1) | 6 |" in card
    data = json.loads((out / "manifest.json").read_text())
    assert data["rows_out"] == 6


def test_report_section_shows_margins_reasons_and_pairs(run):
    out, manifest = run
    stage = manifest["stages"][1]
    own = section_module.section(out, stage)
    assert "6 pairs from 11 judged rows" in own and "min margin 3.0" in own
    assert own.count("<svg") == 1  # the margin histogram
    for reason in ("below_margin", "equal_texts", "position_inconsistent",
                   "too_few_candidates"):
        assert f"<td>{reason}</td>" in own
    assert own.count("Lists cannot.") == 3  # three pairs shown, each with its rejected reply
    page = (out / "report.html").read_text(encoding="utf-8")
    assert own.split("\n")[0] in page and page.count("<svg") == 2  # the funnel, the margins


def test_a_recipe_without_a_judge_before_it_is_refused(tmp_path):
    path = tmp_path / "plain.jsonl"
    path.write_text(json.dumps({"instruction": "Hi", "input": "", "output": "Hello"}) + "\n")
    recipe = parse_recipe({"name": "x", "input": {"path": str(path)},
                           "stages": [{"use": "judge.pairs"}]})
    with pytest.raises(RecipeError, match="judge.pairs reads judge_candidates"):
        run_recipe(recipe, tmp_path / "out")


def test_all_pairs_in_a_recipe_are_counted_as_made(tmp_path):
    path = tmp_path / "judged.parquet"
    judged_frame(_judged_rows()).write_parquet(path)
    recipe = parse_recipe({"name": "x", "input": {"path": str(path)},
                           "stages": [{"use": "judge.pairs",
                                       "with": {"pairs": "all", "min_margin": 3.0}}],
                           "export": [{"target": "trl-dpo", "test_size": 1}]})
    out = tmp_path / "out"
    manifest = run_recipe(recipe, out)
    stage = manifest["stages"][1]
    # scores [8|9, 6, 1|4|7]: pairs above 3 -- i%6==0: 8-1 (9-1 for odd i), 6-1;
    # i%3==1: 9-4 (8-4), 6 vs 4 below; i%3==2: 8-7/9-7 and 6-7 below -> none
    per_row = {0: 2, 1: 1, 2: 0, 3: 2, 4: 1, 5: 0, 6: 2, 7: 1}
    made = sum(per_row.values())
    assert stage["rows_in"] == 11 and stage["rows_out"] == made
    assert stage["added"] == made - sum(1 for n in per_row.values() if n)
    assert stage["rows_in"] + stage["added"] == stage["rows_out"] + sum(stage["dropped"].values())
    assert stage["dropped"]["below_margin"] == 2
    card = (out / "export" / "trl-dpo" / "README.md").read_text(encoding="utf-8")
    assert f"| judge.pairs | 11 | {made} ({stage['added']} made by splitting rows) |" in card
