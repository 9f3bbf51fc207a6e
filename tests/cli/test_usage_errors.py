"""Errors a user can see before any work: `curate validate` refuses what `curate run` would
refuse after doing work, `run` refuses it before its first stage, and the stage commands say a
bad flag value as a usage error (exit 2) naming the flag typed, leaving nothing behind
(issue 26, points 8 and 9)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from curate.cli import cli

SIZE = "must be a fraction in (0, 1) or a row count >= 1, not "


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    rows = [{"instruction": q, "output": a} for q, a in
            [("What is 2+2?", "It is 4."), ("Name a colour.", "Blue, like the sky."),
             ("Capital of France?", "Paris is the capital.")]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _usage_error(result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.endswith(f"\nError: {message}\n"), result.stderr


@pytest.mark.parametrize("body,where", [
    ("export: [{target: trl-sft, test_size: 0}]", f"export[0].test_size: {SIZE}0"),
    ("export: [{target: trl-sft, test_size: 1.0}]", f"export[0].test_size: {SIZE}1.0"),
    ("input: {path: in.jsonl, format: yaml}\n",
     "input.format: unknown format 'yaml'; expected one of auto, alpaca, sharegpt, openai, "
     "dolly, hh-rlhf, alpaca-eval, records, docs, alpaca-eval-outputs, "
     "alpaca-eval-annotations, prompts, passages, auto+prompts"),
    ("input: {path: gone.jsonl}\n", "input.path: gone.jsonl: no such file or folder"),
    ("stages: [{use: select.diverse, with: {n: 1.5}}]",
     "stages[0].with.n: a fraction must be in (0, 1], not 1.5; give a count as a whole number"),
    ("stages: [{use: decontam.ngram, with: {benchmarks: {mmlu: nowhere.jsonl}}}]",
     "stages[0].with.benchmarks.mmlu: nowhere.jsonl: no such file or folder"),
])
def test_validate_refuses_what_run_would_refuse_and_run_refuses_it_first(data, tmp_path,
                                                                          body, where):
    recipe = tmp_path / "r.yaml"
    text = f"name: r\n{body}\n"
    if not body.startswith("input:"):
        text += "input: {path: in.jsonl}\n"
    recipe.write_text(text)
    checked = invoke("validate", recipe)
    assert (checked.exit_code, checked.stderr) == (1, f"Error: {recipe}: {where}\n")
    out = tmp_path / "run"
    ran = invoke("run", recipe, "-o", out)
    assert (ran.exit_code, ran.stdout, ran.stderr) == (1, "", f"Error: {recipe}: {where}\n")
    assert not out.exists()  # refused before the first stage: no run folder


@pytest.mark.parametrize("n,message", [
    ("0", "a count must be at least 1, not 0"),
    ("-1", "a count must be at least 1, not -1"),
    ("1.5", "a fraction must be in (0, 1], not 1.5; give a count as a whole number"),
])
def test_sample_budget_is_a_usage_error_naming_n(data, tmp_path, n, message):
    out = tmp_path / "s"
    _usage_error(invoke("sample", data, "-o", out, "--n", n), f"--n: {message}")
    assert not out.exists()


def test_sample_more_than_the_rows_keeps_them_all_and_says_so(data, tmp_path):
    out = tmp_path / "s"
    result = invoke("sample", data, "-o", out, "--n", "10", "--method", "random")
    assert result.exit_code == 0, result.output
    assert ("01_select.diverse              3 -> 3\n"
            "  budget 10 is more than the 3 rows it was given: all 3 kept\n") in result.stdout
    assert pl.read_parquet(out / "data.parquet").height == 3
    stage = json.loads((out / "manifest.json").read_text())["stages"][1]
    assert stage["stats"]["budget"] == 3 and stage["stats"]["notes"] == [
        "budget 10 is more than the 3 rows it was given: all 3 kept"]


@pytest.mark.parametrize("flag,value,message", [
    ("--test-size", "0", f"Invalid value for '--test-size': {SIZE}0"),
    ("--test-size", "1.0", f"Invalid value for '--test-size': {SIZE}1.0"),
    ("--validation-size", "0", f"Invalid value for '--validation-size': {SIZE}0"),
])
def test_export_split_sizes_are_usage_errors(data, tmp_path, flag, value, message):
    out = tmp_path / "e"
    _usage_error(invoke("export", data, "-o", out, "--target", "trl-sft", flag, value), message)
    assert not out.exists()
    _usage_error(invoke("export", data, "-o", out, "--target", "trl-sft", "--test-size", "0.6",
                        "--validation-size", "0.4"),
                 "--test-size 0.6 and --validation-size 0.4 hold out every row, which leaves "
                 "none for train; together they must stay below 1")
    assert not out.exists()


def test_generate_openai_needs_model_and_base_url_before_any_work(data, tmp_path):
    out = tmp_path / "g"
    for extra in ([], ["--dry-run"]):
        _usage_error(invoke("generate", data, "-o", out, "--task", "responses", "--llm",
                            "openai", *extra),
                     "--model: needed by the openai backend: the name the server knows the "
                     "model by")
    _usage_error(invoke("generate", data, "-o", out, "--task", "responses", "--llm", "openai",
                        "--model", "m"),
                 "--base-url: needed by the openai backend: the server's API root, e.g. "
                 "http://127.0.0.1:8000/v1")
    assert not out.exists()


def test_other_commands_say_bad_values_as_their_flags(data, tmp_path):
    out = tmp_path / "o"
    _usage_error(invoke("filter", data, "-o", out, "--decontam", "/nonexistent"),
                 "Invalid value for '--decontam': '/nonexistent': expected KEY=VALUE, e.g. "
                 "mmlu=mmlu.jsonl")
    _usage_error(invoke("filter", data, "-o", out, "--decontam", "mmlu=/nonexistent"),
                 "Invalid value for '--decontam': 'mmlu=/nonexistent': Path '/nonexistent' does "
                 "not exist.")
    _usage_error(invoke("filter", data, "-o", out, "--decontam-action", "mark"),
                 "--decontam: at least one NAME=PATH is needed")
    _usage_error(invoke("filter", data, "-o", out, "--max-label", "insult"),
                 "Invalid value for '--max-label': 'insult': expected KEY=VALUE, e.g. "
                 "insult=0.3")
    _usage_error(invoke("filter", data, "-o", out, "--toxicity-config", tmp_path),
                 "--toxicity-config: goes with a checkpoint: it is the folder of the "
                 "checkpoint's config and tokenizer files")
    _usage_error(invoke("convert", data, "-o", out, "--format", "alpaca", "--kind",
                        "preference"),
                 "--kind: preference needs preference pairs, but format alpaca only makes SFT "
                 "records")
    _usage_error(invoke("dedup", data, "-o", out, "--format", "yaml"),
                 "--format: unknown format 'yaml'; expected one of auto, alpaca, sharegpt, "
                 "openai, dolly, hh-rlhf, alpaca-eval, records, docs, alpaca-eval-outputs, "
                 "alpaca-eval-annotations, prompts, passages, auto+prompts")
    assert not out.exists()


def test_a_column_a_stage_needs_is_checked_before_the_run_folder_is_made(data, tmp_path):
    out = tmp_path / "s"
    result = invoke("sample", data, "-o", out, "--n", "2", "--keep-column", "pinned")
    assert result.exit_code == 1
    assert result.stderr == ("Error: select.diverse reads pinned, which no earlier stage "
                             "writes; the input has no such column either\n")
    assert not out.exists()


def test_label_push_flags_are_usage_errors_before_reading_or_connecting(data, tmp_path):
    base = ["label", "push", "--dataset", "d", "--api-url", "http://127.0.0.1:9", "--api-key",
            "k"]
    _usage_error(invoke(*base, data, "--annotators", "0"),
                 "Invalid value for '--annotators': 0 is not in the range x>=1.")
    _usage_error(invoke(*base), "give either INPUT or --from-judge RUN")
    _usage_error(invoke(*base, data, "--from-judge", tmp_path),
                 "give either INPUT or --from-judge RUN")
    _usage_error(invoke(*base, data, "--hard-margin", "0.5"),
                 "--hard-margin goes with --from-judge RUN")
