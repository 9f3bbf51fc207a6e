import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from curate.cli import cli

ROWS = [
    {"instruction": "What is 2+2?", "input": "", "output": "2+2 equals 4."},
    {"instruction": "WHAT is 2+2?", "input": "", "output": "2+2   equals 4."},
    {"instruction": "Name a colour.", "input": "", "output": "Red is a colour."},
    {"instruction": "Say hi.", "input": "", "output": "As an AI language model, I cannot."},
]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n", encoding="utf-8")
    return path


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_convert_says_what_it_detected(data, tmp_path):
    result = invoke("convert", data, "-o", tmp_path / "c")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "00_convert                     4 -> 4\n"
        f"wrote {tmp_path / 'c'}/data.parquet: 4 of 4 rows kept\n"
        f"  {data}: alpaca\n")
    assert pl.read_parquet(tmp_path / "c" / "data.parquet")["kind"].to_list() == ["sft"] * 4


def test_commands_chain_through_run_folders(data, tmp_path):
    assert invoke("convert", data, "-o", tmp_path / "c").exit_code == 0
    result = invoke("dedup", tmp_path / "c", "-o", tmp_path / "d", "--on", "prompt")
    assert result.stdout == (
        "00_convert                     4 -> 4\n"
        "01_dedup.exact                 4 -> 3       dropped duplicate_exact: 1\n"
        f"wrote {tmp_path / 'd'}/data.parquet: 3 of 4 rows kept\n")
    result = invoke("filter", tmp_path / "d", "-o", tmp_path / "f", "--max-repetition", "none")
    assert result.stdout.splitlines()[1] == (
        "01_quality.rules               3 -> 2       dropped refusal: 1")
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    assert manifest["stages"][1]["thresholds"]["max_repetition"] is None
    result = invoke("export", tmp_path / "f", "-o", tmp_path / "x", "--target", "trl-sft",
                    "--test-size", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {tmp_path / 'x'} (trl-sft): train: 1, test: 1\n"
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == [
        ".curate.json", "README.md", "test.jsonl", "test.parquet", "train.jsonl", "train.parquet"]


def test_bad_input_is_one_line_on_stderr_and_exit_1(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"instruction": "a", "output": "b"}\n{"instruction": 3, "output": "b"}\n')
    result = invoke("convert", path, "-o", tmp_path / "o")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (f"Error: {path}:2: field 'instruction': expected a string, "
                             "got int (reading it as alpaca); --on-error skip (on_error: skip "
                             "in a recipe) keeps such rows in rejected/ with their reason\n")
    assert "Traceback" not in result.output


def test_skip_keeps_the_bad_row_in_rejected(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"instruction": "a", "output": "b"}\n{"instruction": 3, "output": "b"}\n')
    result = invoke("convert", path, "-o", tmp_path / "o", "--on-error", "skip")
    assert result.exit_code == 0
    rejected = pl.read_parquet(tmp_path / "o" / "rejected" / "00_convert.parquet")
    assert rejected.select("line", "field", "drop_reason").rows() == [(2, "instruction", "wrong_type")]


def test_usage_errors_exit_2(data, tmp_path):
    assert invoke("dedup", data, "-o", tmp_path / "o", "--on", "everything").exit_code == 2
    assert invoke("convert", data).exit_code == 2                      # missing -o
    assert invoke("convert", tmp_path / "missing.jsonl", "-o", tmp_path / "o").exit_code == 2
    assert invoke("filter", data, "-o", tmp_path / "o", "--max-repetition", "lots").exit_code == 2


def test_validate_and_stages(tmp_path):
    (tmp_path / "x.jsonl").write_text('{"instruction": "Hi?", "output": "Hello."}\n')
    good = tmp_path / "good.yaml"
    good.write_text("name: g\ninput: {path: x.jsonl}\nstages:\n  - use: dedup.exact\n"
                    "    with: {on: prompt}\nexport: [{target: trl-sft}]\n")
    result = invoke("validate", good)
    assert result.stdout == f"{good}: ok (convert -> dedup.exact; exports: trl-sft)\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: g\ninput: {path: x.jsonl}\nstages:\n  - use: dedup.exact\n"
                   "    with: {on: everything}\n")
    result = invoke("validate", bad)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {bad}: stages[0].with.on: Input should be 'prompt'")
    listed = invoke("stages").stdout.splitlines()
    ids = [line.split()[0] for line in listed]
    assert ids == sorted(ids) and listed[ids.index("dedup.exact")].startswith("dedup.exact ")


def test_run_writes_the_run_folder(data, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: r\ninput: {{path: {data}}}\nstages:\n  - use: dedup.exact\n"
                      "  - use: quality.rules\nexport: [{target: trl-sft, test_size: 1}]\n")
    out = tmp_path / "run"
    result = invoke("run", recipe, "-o", out)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "00_convert                     4 -> 4",
        "01_dedup.exact                 4 -> 3       dropped duplicate_exact: 1",
        "02_quality.rules               3 -> 2       dropped refusal: 1",
        "export trl-sft           train: 1, test: 1",
    ]
    assert lines[4].startswith("done: 4 rows in, 2 records out, ")
    for name in ("manifest.json", "report.html", "export/trl-sft/README.md"):
        assert (out / name).is_file(), name
    for name in ("data.parquet", "stages/02_quality.rules.parquet",
                 "rejected/01_dedup.exact.parquet"):  # folders of part files
        assert (out / name / "part-00000.parquet").is_file(), name
    ray_run = invoke("run", recipe, "-o", tmp_path / "ray", "--engine", "ray")
    assert ray_run.exit_code == 0, ray_run.output
    assert json.loads((tmp_path / "ray" / "manifest.json").read_text())["engine"] == "ray"


def test_curate_debug_shows_the_underlying_traceback(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    quiet = CliRunner().invoke(cli, ["convert", str(bad), "-o", str(tmp_path / "a")])
    assert quiet.exit_code == 1 and "Traceback" not in quiet.output
    assert quiet.output.startswith(f"Error: {bad}: not a readable parquet file: ")
    loud = CliRunner(env={"CURATE_DEBUG": "1"}).invoke(
        cli, ["convert", str(bad), "-o", str(tmp_path / "b")])
    assert loud.exit_code == 1 and "Traceback (most recent call last)" in loud.output
    assert "pyarrow.lib.ArrowInvalid: Parquet magic bytes not found" in loud.output  # the cause
    assert loud.output.endswith(quiet.output)
