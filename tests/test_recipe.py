import pytest

from curate.errors import RecipeError
from curate.recipe import load_recipe, parse_recipe

BASE = {"name": "t", "input": {"path": "x.jsonl"}}


def _error(data) -> str:
    with pytest.raises(RecipeError) as info:
        parse_recipe(data)
    return str(info.value)


def test_valid_recipe_with_defaults():
    recipe = parse_recipe({**BASE, "stages": [{"use": "dedup.exact", "with": {"on": "prompt"}},
                                              {"use": "dedup.exact"}]})
    assert recipe.engine == "local" and recipe.seed == 0 and recipe.on_error == "raise"
    assert recipe.stage_names() == ["dedup.exact", "dedup.exact-2"]
    assert recipe.stages[0].with_ == {"on": "prompt"}


def test_errors_name_the_path():
    assert _error({**BASE, "stages": [{"use": "dedup.exact"}, {"use": "nope"}]}).startswith(
        "stages[1].use: unknown stage 'nope'")
    assert _error({**BASE, "stages": [{"use": "dedup.exact", "with": {"on": "everything"}}]}
                  ).startswith("stages[0].with.on: Input should be")
    assert _error({**BASE, "stages": [{"use": "dedup.exact", "with": {"bogus": 1}}]}) == (
        "stages[0].with.bogus: unknown option")
    assert _error({"name": "t"}) == "input: required option is missing"
    assert _error({**BASE, "colour": "red"}) == "colour: unknown option"
    assert _error({**BASE, "export": [{"target": "nope"}]}).startswith(
        "export[0].target: unknown target 'nope'")
    assert _error(["not", "a", "mapping"]).startswith("a recipe must be a mapping")


def test_load_recipe_reports_yaml_errors_with_file_and_line(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: t\ninput: {path: x\nstages: []\n")
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    assert str(info.value).startswith(f"{path}: line ")
    assert "invalid YAML" in str(info.value)
    with pytest.raises(RecipeError, match="recipe file not found"):
        load_recipe(tmp_path / "missing.yaml")


def test_yaml_on_and_no_stay_strings(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: t\ninput: {path: x}\nstages:\n  - use: dedup.exact\n"
                    "    with: {on: prompt}\n  - use: quality.rules\n"
                    "    with: {drop_refusals: false, check_role_order: true}\n")
    recipe = load_recipe(path)
    assert recipe.stages[0].with_ == {"on": "prompt"}
    assert recipe.stages[1].with_ == {"drop_refusals": False, "check_role_order": True}


def test_export_options_are_checked_at_validation():
    message = _error({**BASE, "export": [{"target": "trl-sft", "with": {"colour": "red"}}]})
    assert message.startswith("export[0].with: target 'trl-sft' has no option(s) colour")
    recipe = parse_recipe({**BASE, "export": [{"target": "trl-sft",
                                               "with": {"sft_format": "prompt-completion"}}]})
    assert recipe.export[0].with_ == {"sft_format": "prompt-completion"}


def test_input_columns_and_encoding():
    recipe = parse_recipe({**BASE, "input": {"path": "x.jsonl", "encoding": "latin-1",
                                             "columns": {"prompt": "q", "response": "a.0.text",
                                                         "meta.topic": "info.topic"}}})
    assert recipe.input.columns == {"prompt": "q", "response": "a.0.text",
                                    "meta.topic": "info.topic"}
    assert recipe.input.encoding == "latin-1"
    assert _error({**BASE, "input": {"path": "x", "columns": {"prompt": "q", "answer": "a"}}}
                  ).startswith("input.columns: unknown target 'answer'; targets: prompt,")
    assert _error({**BASE, "input": {"path": "x", "columns": {"prompt": "q"}}}).startswith(
        "input.columns: give prompt and response;")
    assert _error({**BASE, "input": {"path": "x", "encoding": "latin-9x"}}).startswith(
        "input.encoding: unknown encoding 'latin-9x'")
    assert _error({**BASE, "input": {"path": "x", "format": "alpaca", "columns": {
        "prompt": "q", "response": "a"}}}) == (
        "input: columns reads the rows through the column map; it does not go with format "
        "alpaca (leave format auto)")


def test_a_recipe_reads_through_its_map_and_resume_sees_a_new_map(tmp_path):
    import json

    import polars as pl

    from curate.runner import run_recipe

    data = tmp_path / "chats.jsonl"
    data.write_text(json.dumps({"c": [{"from": "human", "value": "Hi?"},
                                      {"from": "gpt", "value": "Hello."}], "x": "1"}) + "\n")
    spec = {"name": "t", "input": {"path": str(data), "columns": {
        "prompt": "c.0.value", "response": "c.1.value"}}}
    first = run_recipe(parse_recipe(spec), tmp_path / "run", report=False)
    assert first["stages"][0]["stats"]["columns"] == {str(data): "prompt=c.0.value,"
                                                                 "response=c.1.value"}
    spec["input"]["columns"] = {"messages": "c"}
    again = run_recipe(parse_recipe(spec), tmp_path / "run", report=False, resume=True)
    assert again["stages"][0]["fingerprint"] != first["stages"][0]["fingerprint"]
    meta = json.loads(pl.read_parquet(tmp_path / "run" / "data.parquet")["meta"][0])
    assert meta == {"x": "1", "file": "chats.jsonl", "line": 1, "format": "columns"}
