"""`curate generate` and `curate judge` are built from their stages: the --task choices and their
help, each task's flags and default input format, and a flag shared by tasks of different
ranges checked by the task that runs; `curate judge` gets judge.pairs' options and --no-pairs."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from curate.cli import cli
from curate.stages.registry import stages_of

OPENAI = ["--llm", "openai", "--model", "m", "--base-url", "http://127.0.0.1:9/v1"]


def _help(*command: str) -> str:
    res = CliRunner().invoke(cli, [*command, "--help"], terminal_width=200)
    assert res.exit_code == 0, res.output
    return " ".join(res.output.split())


def test_the_tasks_and_their_flags_are_the_generate_stages():
    stages = stages_of("generate")
    text = _help("generate")
    names = "|".join(cls.cli_name for cls in stages)
    assert names.startswith("questions|responses|evolve") and f"--task [{names}]" in text
    for cls in stages:
        assert f"{cls.cli_name}: {cls.summary.rstrip('.')}" in text
    # one text where every task has the field alike; labelled where they differ
    assert "--timeout FLOAT RANGE openai: seconds per request attempt. [default: 120.0]" in text
    assert re.search(r"--n INTEGER\|NONE questions: Questions per passage.*\[default: 1\]; "
                     r"responses: Candidates per prompt.*\[default: none\]", text)
    assert "--how [deepen|broaden|mixed] evolve: deepen: a harder version" in text


def _generate(tmp_path, *args: str):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"prompt": "Say hi."}) + "\n")
    return CliRunner().invoke(cli, ["generate", str(path), "-o", str(tmp_path / "out"), *args])


@pytest.mark.parametrize("args, error", [
    (["--task", "evolve", "--n", "2"],
     "Error: --n does not apply to --task evolve (only to questions/responses)"),
    (["--task", "questions", "--how", "mixed"],
     "Error: --how does not apply to --task questions (only to evolve)"),
    (["--task", "questions", "--n", "11"],
     "Error: --n: Input should be less than or equal to 10"),
    (["--task", "responses", "--n", "65"],
     "Error: --n: Input should be less than or equal to 64"),
])
def test_a_flag_is_checked_by_the_task_that_runs(tmp_path, args, error):
    res = _generate(tmp_path, *args, *OPENAI)
    assert res.exit_code == 2 and res.output.rstrip().endswith(error), res.output
    assert not (tmp_path / "out").exists()


def test_each_task_reads_its_own_default_format(tmp_path):
    """responses reads prompts (one reply each) or, with --n, any format; --n 32 is in the
    range of responses only."""
    res = _generate(tmp_path, "--task", "responses", "--n", "32", "--dry-run", *OPENAI)
    assert res.exit_code == 0, res.output
    assert "1 of 1 rows to generate" in res.output and "32 requests to send" in res.output
    res = _generate(tmp_path, "--task", "questions", "--dry-run", *OPENAI)
    assert res.exit_code == 0, res.output  # passages: a prompt row is no document
    assert "0 of 0 rows to generate (1 input rows rejected)" in res.output
    docs = tmp_path / "doc.md"
    docs.write_text("# Cats\n\nCats sleep most of the day and hunt at dusk, when mice and "
                    "birds are about; a house cat keeps the habits of its wild kin.\n")
    res = CliRunner().invoke(cli, ["generate", str(docs), "-o", str(tmp_path / "q"), "--task",
                                   "questions", "--dry-run", *OPENAI])
    assert res.exit_code == 0, res.output
    assert "1 of 1 rows to generate" in res.output and "Cats sleep most" in res.output


def test_judge_gets_its_stages_flags():
    text = _help("judge")
    assert "--judge SPEC A judge: local (the packaged SmolLM2-135M)" in text
    assert "--llm " not in text and "--base-url" not in text  # a judge is a --judge SPEC
    assert "--min-margin FLOAT RANGE A pair needs its judge margin" in text
    assert "--pairs [best_worst|all] Which pairs a prompt gives" in text
    assert "--no-pairs Leave out judge.pairs: keep the rows as judge.llm leaves them." in text


def test_judge_pairs_flags_need_the_pairs_step(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"prompt": "Hi?", "candidates": ["a", "b"]}) + "\n")
    res = CliRunner().invoke(cli, ["judge", str(path), "-o", str(tmp_path / "o"), "--no-pairs",
                                   "--min-margin", "0.2", "--pairs", "best-worst"])
    assert res.exit_code == 2 and res.output.rstrip().endswith(
        "Error: --min-margin and --pairs: options of judge.pairs (not with --no-pairs or "
        "--dry-run)")
    res = CliRunner().invoke(cli, ["judge", str(path), "-o", str(tmp_path / "o"), "--pairs",
                                   "every"])
    assert res.exit_code == 2 and "'every' is not one of 'best_worst', 'all'" in res.output
