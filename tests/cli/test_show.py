"""curate show: the funnel, the exports and sample rows of a run, as text and as JSON."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from curate.cli import cli
from curate.errors import CurateError
from curate.show import show_run

ROWS = [{"question": "What is 2+2?", "answer": "4"},
        {"question": "What is 2+2?", "answer": "4"},
        {"question": "Name a colour.", "answer": "Red."},
        {"question": "Say hi."},
        {"question": "Spell cat.", "answer": "C, A, T."}]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def run(tmp_path: Path) -> Path:
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    out = tmp_path / "run"
    r = invoke("dedup", path, "-o", out, "--on-error", "skip")
    assert r.exit_code == 0, r.output
    r = invoke("export", out, "-o", out / "export" / "trl-sft", "--target", "trl-sft",
               "--test-size", "1")
    assert r.exit_code == 0, r.output
    return out


def test_show_prints_funnel_and_sample(run):
    r = invoke("show", run, "-n", "2")
    assert r.exit_code == 0, r.output
    assert r.stdout == (
        f"{run}: dedup-exact, done, 5 rows in, 3 out\n"
        "\n"
        "funnel:\n"
        "  00_convert                     5 -> 4       dropped missing_field: 1\n"
        "  01_dedup.exact                 4 -> 3       dropped duplicate_exact: 1\n"
        "\n"
        "exports:\n"
        "  trl-sft        export/trl-sft         train: 2, test: 1\n"
        "\n"
        "2 of 3 rows of data.parquet:\n"
        "  [1] id 2650a348cda959c1  kind sft  source qa.jsonl\n"
        "      user: What is 2+2?\n"
        "      assistant: 4\n"
        "  [2] id 3e6a2e18c5c1df25  kind sft  source qa.jsonl\n"
        "      user: Name a colour.\n"
        "      assistant: Red.\n")


def test_show_rejected_rows_of_a_stage(run, tmp_path):
    r = invoke("show", run, "--rejected", "convert")
    assert r.exit_code == 0, r.output
    assert r.stdout.split("\n\n")[-1] == (
        "1 of 1 rows of rejected/00_convert.parquet:\n"
        f"  [1] drop_reason missing_field  {tmp_path / 'qa.jsonl'}:4 field 'answer'\n"
        "      detail: no key 'answer' in the row (its keys: question); read as response\n"
        '      raw: {"question": "Say hi."}\n')
    r = invoke("show", run, "--rejected", "1", "--reason", "duplicate_exact", "--width", "8")
    assert r.stdout.split("\n\n")[-1] == (
        "1 of 1 rows of rejected/01_dedup.exact.parquet, reason duplicate_exact:\n"
        "  [1] id 991ffed51cedaa0c  kind sft  source qa.jsonl  drop_reason duplicate_exact  "
        "kept_id 2650a348cda959c1\n"
        "      user: What is…\n"
        "      assistant: 4\n")


def test_show_a_reason_across_stages_and_json(run):
    r = invoke("show", run, "--reason", "missing_field", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert [(s["name"], s["rows_in"], s["rows_out"], s["dropped"]) for s in summary["stages"]] == [
        ("convert", 5, 4, {"missing_field": 1}), ("dedup.exact", 4, 3, {"duplicate_exact": 1})]
    assert summary["sample"]["of"] == "rejected/"
    assert [(row["stage"], row["line"]) for row in summary["sample"]["shown"]] == [
        ("00_convert", 4)]


def test_show_a_run_with_exports(tmp_path):
    r = invoke("run", Path(__file__).parents[2] / "pipelines" / "demo.yaml", "-o",
               tmp_path / "demo", "--no-report", "--until", "dedup.exact")
    assert r.exit_code == 0, r.output
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: r\ninput: {path: " + str(tmp_path / "demo") + "}\n"
                      "export: [{target: trl-dpo, test_size: 2}]\n")
    assert invoke("run", recipe, "-o", tmp_path / "r", "--no-report").exit_code == 0
    r = invoke("show", tmp_path / "r", "-n", "0")
    assert "\nexports:\n  trl-dpo        export/trl-dpo         train: " in r.stdout
    assert "; not exported: wrong_kind: " in r.stdout
    assert r.stdout.endswith("0 of 292 rows of data.parquet:\n")


def test_errors_name_the_way(run, tmp_path):
    r = invoke("show", run, "--rejected", "quality")
    assert r.exit_code == 1
    assert r.stderr == ("Error: --rejected quality: no such stage in this run (rejected rows of: "
                        "00_convert, 01_dedup.exact)\n")
    r = invoke("show", run, "--rejected", "dedup.exact", "--reason", "toxic")
    assert r.stderr == ("Error: --reason toxic: no rows were removed by 01_dedup.exact for this "
                        "reason; the reasons: duplicate_exact (1)\n")
    with pytest.raises(CurateError, match="not a run folder"):
        show_run(tmp_path)


def test_show_a_failed_run_says_what_it_read_and_where_it_stopped(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    recipe = tmp_path / "f.yaml"
    recipe.write_text(f"name: f\ninput: {{path: {path}}}\non_error: skip\nstages:\n"
                      "  - use: dedup.exact\n"
                      "  - use: select.diverse\n"
                      "    with: {n: 2, method: deita, score_column: source}\n")
    failed = invoke("run", recipe, "-o", tmp_path / "f", "--no-report")
    assert failed.exit_code == 1
    r = invoke("show", tmp_path / "f", "-n", "0")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[:6] == [
        f"{tmp_path / 'f'}: f, failed, 5 rows in, no records out",
        "",
        "funnel:",
        "  00_convert                     5 -> 4       dropped missing_field: 1",
        "  01_dedup.exact                 4 -> 3       dropped duplicate_exact: 1",
        "  02_select.diverse        failed: select.diverse: score_column 'source' must be "
        "numeric, got String"]
    assert "None" not in r.stdout
