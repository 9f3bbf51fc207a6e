import json

import click
import polars as pl
import pytest
from click.testing import CliRunner

from curate.cli import cli
from curate.cli.usage import built
from curate.stages.safety_bias import Bias
from curate.stages.safety_toxicity import Toxicity

ROWS = [("your code was helpful", "you are a idiot"),
        ("the report is about women", "all women are worthless"),
        ("the song sounds great", "the library opens at nine"),
        ("the essay has a clear plan", "As an AI language model, I cannot.")]


def test_filter_runs_quality_toxicity_and_bias(tmp_path, tiny_detoxify):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"instruction": q, "input": "", "output": a}) + "\n"
                            for q, a in ROWS))
    result = CliRunner().invoke(cli, [
        "filter", str(path), "-o", str(tmp_path / "f"),
        "--toxicity-checkpoint", str(tiny_detoxify.checkpoint),
        "--toxicity-config", str(tiny_detoxify.config_dir),
        "--toxicity-max", "none", "--max-label", "insult=0.5", "--identity-attack-max", "0.5"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:4] == [
        "01_quality.rules               4 -> 3       dropped refusal: 1",
        "02_safety.toxicity             3 -> 2       dropped toxic_insult: 1",
        "03_safety.bias                 2 -> 1       dropped identity_attack: 1"]
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    assert manifest["stages"][2]["thresholds"]["max_label"] == {"insult": 0.5}
    assert (tmp_path / "f" / "bias.json").is_file()
    rejected = pl.read_parquet(tmp_path / "f" / "rejected" / "03_safety.bias.parquet")
    assert rejected["bias_groups"].to_list() == [["gender/women"]]


def test_bad_label_threshold_is_a_usage_error(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"instruction": "a", "input": "", "output": "b"}) + "\n")
    result = CliRunner().invoke(cli, ["filter", str(path), "-o", str(tmp_path / "f"),
                                      "--max-label", "insult"])
    assert result.exit_code == 2 and "expected KEY=VALUE" in result.output


def test_explicit_detoxify_model_offline_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"instruction": "a", "input": "", "output": "b"}) + "\n")
    result = CliRunner().invoke(cli, ["filter", str(path), "-o", str(tmp_path / "f"),
                                      "--toxicity-model", "original"])
    assert result.exit_code == 1
    assert "Error: Detoxify model 'original' needs the checkpoint https://" in result.output


@pytest.mark.parametrize("flags, message", [
    (["--toxicity-max", "high"], "Error: Invalid value for '--toxicity-max': 'high' is not a "
                                 "valid float range; or one of: auto"),
    (["--group-toxicity-max", "1.5"], "Error: Invalid value for '--group-toxicity-max': 1.5 is "
                                      "not in the range 0<=x<=1; or one of: auto"),
])
def test_a_bad_auto_threshold_is_a_clear_error(tmp_path, flags, message):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"instruction": "a", "input": "", "output": "b"}) + "\n")
    result = CliRunner().invoke(cli, ["filter", str(path), "-o", str(tmp_path / "f"), *flags])
    assert result.exit_code == 2 and message in result.output


def test_filter_audits_the_run_with_the_disparity_flags(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = tmp_path / "in.jsonl"
    rows = [("q", f"the women's team scored {i} goals, you idiot") for i in range(3)]
    rows += [("q", f"the museum opens at {i}") for i in range(6)] + [("q", "k")]
    path.write_text("".join(json.dumps({"instruction": q, "input": "", "output": a}) + "\n"
                            for q, a in rows))
    result = CliRunner().invoke(cli, ["filter", str(path), "-o", str(tmp_path / "f"),
                                      "--bias", "--toxicity-max", "auto",
                                      "--disparity-max", "2", "--disparity-min-records", "3"])
    assert result.exit_code == 0, result.output
    audit = json.loads((tmp_path / "f" / "bias.json").read_text())
    assert audit["stages"] == ["quality.rules", "safety.toxicity", "safety.bias"]
    assert audit["overall"]["removed_by"] == {"toxic": 3, "too_short": 1}
    women = audit["groups"]["gender/women"]
    assert (women["records_in"], women["removed_rate"], women["removal_ratio"]) == (3, 1.0, 2.5)
    assert women["flags"] == ["over_removed", "often_toxic"]
    assert audit["thresholds"]["disparity_max"] == 2


@pytest.mark.parametrize("stage, options, place", [
    ("safety.toxicity", "{max: high}", "stages[1].with.max: expected a number between 0 and 1, "
                                       "'auto' or 'none', not 'high'"),
    ("safety.bias", "{group_toxicity_max: 1.5}", "stages[1].with.group_toxicity_max: expected a "
                                                 "number between 0 and 1, 'auto' or 'none', "
                                                 "not 1.5"),
])
def test_a_bad_auto_threshold_in_a_recipe_names_its_place(tmp_path, stage, options, place):
    (tmp_path / "in.jsonl").write_text(json.dumps({"instruction": "a", "input": "",
                                                   "output": "b"}) + "\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: t\ninputs:\n  - {{path: in.jsonl, format: alpaca, name: a}}\n"
                      f"stages:\n  - use: quality.rules\n  - use: {stage}\n"
                      f"    with: {options}\n")
    result = CliRunner().invoke(cli, ["validate", str(recipe)])
    assert result.exit_code == 1
    assert result.output == f"Error: {recipe}: {place}\n"


@pytest.mark.parametrize("cls, options, message", [
    (Toxicity, {"max": "high"},
     "--toxicity-max: expected a number between 0 and 1, 'auto' or 'none', not 'high'"),
    (Bias, {"identity_attack_max": 2},
     "--identity-attack-max: expected a number between 0 and 1, 'auto' or 'none', not 2"),
])
def test_a_bad_auto_threshold_as_options_of_a_command_names_its_flag(cls, options, message):
    """The validator says what is wrong; the one mapper (cli.usage) names the flag."""
    with pytest.raises(click.UsageError) as caught:
        built(cls, options)
    assert caught.value.message == message
