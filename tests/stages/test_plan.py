"""Recipes are checked against the columns their stages read, before any data moves."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from curate.cli import cli
from curate.errors import RecipeError
from curate.recipe import parse_recipe
from curate.runner import run_recipe
from curate.stages.plan import check_columns, input_columns, writers_of
from curate.stages.registry import stage_class


def stages(*specs):
    return [(use, stage_class(use)(options)) for use, options in specs]


def test_a_stage_before_the_one_it_needs_is_named():
    with pytest.raises(RecipeError) as err:
        check_columns(stages(("quality.rules", {}), ("safety.bias", {}),
                             ("safety.toxicity", {})), input_columns())
    assert str(err.value) == ("stages[1]: safety.bias reads toxicity, which no earlier stage "
                              "writes; add safety.toxicity before it")


def test_the_right_order_and_an_input_that_has_the_column_pass():
    check_columns(stages(("safety.toxicity", {}), ("safety.bias", {})), input_columns())
    check_columns(stages(("safety.bias", {})), input_columns(["toxicity"]))


def test_option_columns_are_read_too():
    with pytest.raises(RecipeError, match=r"stages\[0\]: dedup.near reads score, which no "
                                          r"earlier stage writes; the input has no such"):
        check_columns(stages(("dedup.near", {"keep": "score"})), input_columns())
    with pytest.raises(RecipeError, match="select.diverse reads quality_repetition, which no "
                                          "earlier stage writes; add quality.rules before it"):
        check_columns(stages(("select.diverse", {"n": 2, "method": "deita",
                                                 "score_column": "quality_repetition"})),
                      input_columns())


def test_writers_come_from_the_declarations():
    assert writers_of("tox_insult") == ["safety.toxicity"]
    assert writers_of("dup_cluster") == ["dedup.exact", "dedup.near", "dedup.semantic"]


def _recipe(tmp_path, order):
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps({"instruction": "a?", "input": "", "output": "b."}) + "\n")
    recipe = {"name": "r", "input": {"path": str(data)},
              "stages": [{"use": use} for use in order]}
    path = tmp_path / "r.yaml"
    path.write_text(json.dumps(recipe))  # JSON is YAML
    return path, recipe


def test_validate_and_run_fail_before_any_data_moves(tmp_path):
    path, recipe = _recipe(tmp_path, ["safety.bias", "safety.toxicity"])
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.output == (f"Error: {path}: stages[0]: safety.bias reads toxicity, which no "
                             "earlier stage writes; add safety.toxicity before it\n")
    with pytest.raises(RecipeError, match=r"stages\[0\]: safety.bias reads toxicity"):
        run_recipe(parse_recipe(recipe), tmp_path / "run")
    assert not list((tmp_path / "run" / "stages").glob("*"))  # not even the convert step


def test_resume_checks_against_the_checkpoint(tmp_path):
    path, recipe = _recipe(tmp_path, ["safety.toxicity", "safety.bias"])
    assert CliRunner().invoke(cli, ["validate", str(path)]).exit_code == 0
    run_recipe(parse_recipe(recipe), tmp_path / "run", until="safety.toxicity")
    # the bias stage now starts from the toxicity checkpoint, which has the column
    manifest = run_recipe(parse_recipe(recipe), tmp_path / "run", resume=True)
    assert [s["status"] for s in manifest["stages"]] == ["done"] * 3
