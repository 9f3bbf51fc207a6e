"""curate show, the report and a run folder as input, on runs whose data, checkpoints and
rejected rows are folders of part files, and on older runs with single files."""

import json
import shutil
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from curate.cli import cli
from curate.io.parts import Parts
from curate.show import show_run

ROWS = ([{"question": f"What is {i} + {i}?", "answer": f"It is {2 * i}, as you can check."}
         for i in range(30)]
        + [{"question": f"Say something {i}.", "answer": "x"} for i in range(5)]
        + [{"question": "No answer here."}])


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _run(tmp_path: Path, monkeypatch) -> Path:
    """A filter run whose folders hold several parts (pieces of 8 rows)."""
    monkeypatch.setattr("curate.io.parts.PART_ROWS", 8)  # convert writes parts of 8 rows
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    out = tmp_path / "run"
    r = invoke("filter", path, "-o", out, "--on-error", "skip")
    assert r.exit_code == 0, r.output
    return out


def test_show_samples_rows_of_every_part(tmp_path, monkeypatch):
    run = _run(tmp_path, monkeypatch)
    data = Parts(run / "data.parquet")
    assert len(data.files) > 2
    ids = data.read()["id"].to_list()
    summary = show_run(run, n=30)
    assert summary["sample"]["rows"] == 30 == len(ids)
    assert [r["id"] for r in summary["sample"]["shown"]] == ids  # all, in order
    some = show_run(run, n=4, seed=1)["sample"]["shown"]
    picked = [r["id"] for r in some]
    assert len(picked) == 4 and picked == sorted(picked, key=ids.index)
    # the same rows as a seeded sample of the whole table
    whole = data.read().with_row_index("_r").sample(4, seed=1).sort("_r")["id"].to_list()
    assert picked == whole


def test_show_rejected_rows_by_stage_and_reason(tmp_path, monkeypatch):
    run = _run(tmp_path, monkeypatch)
    r = invoke("show", run, "--reason", "too_short", "-n", "10", "--json")
    assert r.exit_code == 0, r.output
    sample = json.loads(r.stdout)["sample"]
    assert sample["rows"] == 5 and sample["of"] == "rejected/"
    assert {row["stage"] for row in sample["shown"]} == {"01_quality.rules"}
    r = invoke("show", run, "--rejected", "convert", "--json")
    shown = json.loads(r.stdout)["sample"]["shown"]
    assert [(row["drop_reason"], row["line"]) for row in shown] == [("missing_field", 36)]
    r = invoke("show", run, "--reason", "toxic")
    assert r.exit_code == 1
    assert "--reason toxic: no rows were removed for this reason; the reasons: " \
           "missing_field (1), too_short (5)" in r.output


def test_the_report_and_a_run_as_input_read_parts(tmp_path, monkeypatch):
    run = _run(tmp_path, monkeypatch)
    report = (run / "report.html").read_text()
    assert "<h2>Removed examples</h2>" in report and "too_short" in report
    r = invoke("convert", run, "-o", tmp_path / "again")
    assert r.exit_code == 0, r.output
    assert Parts(tmp_path / "again" / "data.parquet").read().equals(
        Parts(run / "data.parquet").read())
    r = invoke("export", run, "-o", tmp_path / "sft", "--target", "trl-sft", "--test-size", "3")
    assert r.exit_code == 0, r.output
    assert "wrote" in r.output and "train: 27, test: 3" in r.output


def test_an_older_run_folder_of_single_files_still_reads(tmp_path, monkeypatch):
    run = _run(tmp_path, monkeypatch)
    old = tmp_path / "old"
    shutil.copytree(run, old)
    for folder in [old / "data.parquet", *old.glob("stages/*.parquet"),
                   *old.glob("rejected/*.parquet")]:
        df = Parts(folder).read()
        shutil.rmtree(folder)
        df.write_parquet(folder)  # one file, as runs wrote before part folders
    summary = show_run(old, n=3)
    assert summary["sample"]["rows"] == 30
    assert show_run(old, reason="too_short")["sample"]["rows"] == 5
    r = invoke("convert", old, "-o", tmp_path / "again")
    assert r.exit_code == 0, r.output
    assert Parts(tmp_path / "again" / "data.parquet").read().equals(
        pl.read_parquet(old / "data.parquet"))
