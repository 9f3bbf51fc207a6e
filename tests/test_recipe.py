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


# What run would refuse after doing work is refused when the recipe is read (issue 26, point 8).
FORMATS = ("auto, alpaca, sharegpt, openai, dolly, hh-rlhf, alpaca-eval, records, docs, "
           "alpaca-eval-outputs, alpaca-eval-annotations, prompts, passages, auto+prompts")
SIZE = "must be a fraction in (0, 1) or a row count >= 1, not "


@pytest.mark.parametrize("recipe,message", [
    ({"input": {"path": "x.jsonl", "format": "yaml"}},
     f"input.format: unknown format 'yaml'; expected one of {FORMATS}"),
    ({"input": {"path": "x.jsonl", "format": "alpaca", "kind": "preference"}},
     "input.kind: preference needs preference pairs, but format alpaca only makes SFT records"),
    ({"export": [{"target": "trl-sft", "test_size": 0}]}, f"export[0].test_size: {SIZE}0"),
    ({"export": [{"target": "trl-sft", "test_size": 1.0}]}, f"export[0].test_size: {SIZE}1.0"),
    ({"export": [{"target": "trl-sft", "test_size": -2}]}, f"export[0].test_size: {SIZE}-2"),
    ({"export": [{"target": "trl-sft"}, {"target": "trl-dpo", "validation_size": 0.0}]},
     f"export[1].validation_size: {SIZE}0.0"),
    ({"export": [{"target": "trl-sft", "test_size": 0.5, "validation_size": 0.5}]},
     "export[0].validation_size: test_size 0.5 and validation_size 0.5 hold out every row, "
     "which leaves none for train; together they must stay below 1"),
    ({"export": [{"target": "openai", "with": {"formats": ["parquet"]}}]},
     "export[0].with.formats: target 'openai' writes jsonl, not parquet"),
    ({"export": [{"target": "trl-sft", "with": {"chat_template": "vicuna"}}]},
     "export[0].with.chat_template: unknown chat template 'vicuna'; shipped templates: chatml, "
     "llama-3, zephyr"),
    ({"export": [{"target": "trl-sft", "with": {"max_tokens": 512}}]},
     "export[0].with.max_tokens: max_tokens needs a tokenizer (a name in the local Hugging "
     "Face cache or a tokenizer folder) to count tokens with"),
    ({"stages": [{"use": "select.diverse", "with": {"n": 0}}]},
     "stages[0].with.n: a count must be at least 1, not 0"),
    ({"stages": [{"use": "generate.responses", "with": {"llm": "openai"}}]},
     "stages[0].with.model: needed by the openai backend: the name the server knows the "
     "model by"),
    ({"stages": [{"use": "generate.responses", "with": {"llm": "openai", "model": "m"}}]},
     "stages[0].with.base_url: needed by the openai backend: the server's API root, e.g. "
     "http://127.0.0.1:8000/v1"),
    ({"stages": [{"use": "judge.llm", "with": {"judges": ["gpt4"]}}]},
     "stages[0].with.judges: judge 'gpt4': expected local, local:PATH_OR_NAME or "
     "openai:MODEL@BASE_URL"),
    ({"stages": [{"use": "safety.toxicity", "with": {"config": "tok"}}]},
     "stages[0].with.config: goes with a checkpoint: it is the folder of the checkpoint's "
     "config and tokenizer files"),
])
def test_what_run_would_refuse_is_refused_when_read(recipe, message):
    assert _error({**BASE, **recipe}) == message


def test_judges_name_their_own_backend():
    # with judges, the llm/model/base_url options are not the judges' and are not required
    parse_recipe({**BASE, "stages": [{"use": "judge.llm", "with": {
        "llm": "openai", "judges": ["openai:m@http://127.0.0.1:1/v1"]}}]})


def test_files_a_recipe_names_are_checked_before_data_moves(tmp_path):
    from curate.recipe_files import check_recipe_files

    data = tmp_path / "in.jsonl"
    data.write_text('{"instruction": "Hi?", "output": "Hello."}\n')
    recipe_file = tmp_path / "r.yaml"
    missing = parse_recipe({**BASE, "input": {"path": "gone.jsonl"}})
    with pytest.raises(RecipeError) as info:
        check_recipe_files(missing, recipe_file)
    assert str(info.value) == f"{recipe_file}: input.path: gone.jsonl: no such file or folder"
    bench = parse_recipe({**BASE, "input": {"path": str(data)}, "stages": [
        {"use": "decontam.ngram", "with": {"benchmarks": {"mmlu": str(tmp_path / "m.jsonl")}}}]})
    with pytest.raises(RecipeError) as info:
        check_recipe_files(bench)
    assert str(info.value) == (f"stages[0].with.benchmarks.mmlu: {tmp_path / 'm.jsonl'}: no "
                               "such file or folder")
    none = parse_recipe({**BASE, "input": {"path": str(data)}, "stages": [
        {"use": "dedup.exact"}, {"use": "decontam.semantic"}]})
    with pytest.raises(RecipeError) as info:
        check_recipe_files(none)
    assert str(info.value) == "stages[1].with.benchmarks: at least one NAME=PATH is needed"
    checkpoint = parse_recipe({**BASE, "input": {"path": "in.jsonl"}, "stages": [
        {"use": "safety.toxicity", "with": {"checkpoint": str(tmp_path / "t.ckpt")}}]})
    with pytest.raises(RecipeError) as info:
        check_recipe_files(checkpoint, recipe_file)  # the input is found beside the recipe
    assert str(info.value) == (f"{recipe_file}: stages[0].with.checkpoint: "
                               f"{tmp_path / 't.ckpt'}: no such file or folder")
