"""Several datasets as NAME=PATH on the commands that take one: each record gets its input's
name (column dataset), the funnel is shown per input; a plain PATH is as before."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from curate.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def qa(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in rows),
                    encoding="utf-8")
    return path


def test_dedup_of_two_named_inputs_then_show_per_input(tmp_path):
    a = qa(tmp_path / "a.jsonl", [("What is 2+2?", "4"), ("Name a colour.", "Red."),
                                  ("What is 2+2?", "4")])
    b = qa(tmp_path / "b.jsonl", [("What is 2+2?", "4"), ("Spell cat.", "C, A, T.")])
    out = tmp_path / "run"
    r = invoke("dedup", f"ours={a}", f"theirs={b}", "-o", out)
    assert r.exit_code == 0, r.output
    df = pl.read_parquet(out / "data.parquet")
    assert df.select("dataset", pl.col("messages").list.first().struct.field("content")
                     ).rows() == [
        ("ours", "What is 2+2?"), ("ours", "Name a colour."), ("theirs", "Spell cat.")]
    r = invoke("show", out, "-n", "0")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[2:10] == [
        "funnel:",
        "  00_convert                     5 -> 5",
        "    ours                         3 -> 3",
        "    theirs                       2 -> 2",
        "  01_dedup.exact                 5 -> 3       dropped duplicate_exact: 2",
        "    ours                         3 -> 2       dropped duplicate_exact: 1",
        "    theirs                       2 -> 1       dropped duplicate_exact: 1",
        ""]
    assert "inputs:\n  ours: 3 rows read, 2 records out\n  theirs: 2 rows read, 1 records " \
           "out\n" in r.stdout
    shown = json.loads(invoke("show", out, "--json").stdout)
    assert [t["name"] for t in shown["inputs"]] == ["ours", "theirs"]
    assert shown["stages"][1]["datasets"]["theirs"]["dropped"] == {"duplicate_exact": 1}


def test_convert_keeps_a_plain_path_unnamed(tmp_path):
    a = qa(tmp_path / "a.jsonl", [("What is 2+2?", "4")])
    r = invoke("convert", a, "-o", tmp_path / "run")
    assert r.exit_code == 0, r.output
    assert "dataset" not in pl.read_parquet(tmp_path / "run" / "data.parquet").columns


def test_usage_errors(tmp_path):
    a = qa(tmp_path / "a.jsonl", [("What is 2+2?", "4")])
    r = invoke("convert", f"x={a}", a, "-o", tmp_path / "run")
    assert r.exit_code == 2
    assert r.output.endswith(f"Error: INPUT: several inputs need a name each, as NAME=PATH "
                             f"(got {a})\n")
    r = invoke("convert", f"x={a}", f"x={a}", "-o", tmp_path / "run")
    assert r.exit_code == 2
    assert r.output.endswith("Error: INPUT: input name 'x' is given twice; names are unique\n")
    r = invoke("filter", f"x={tmp_path / 'nope.jsonl'}", "-o", tmp_path / "run")
    assert r.exit_code == 2
    assert "Path '" in r.output and "nope.jsonl' does not exist" in r.output
    assert not (tmp_path / "run").exists()


def test_a_bad_row_names_the_input(tmp_path):
    a = qa(tmp_path / "a.jsonl", [("What is 2+2?", "4")])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "answer": "a"}\n{"question": \n', encoding="utf-8")
    r = invoke("convert", f"ours={a}", f"theirs={bad}", "-o", tmp_path / "run")
    assert r.exit_code == 1
    assert f"Error: input theirs: {bad}:2: invalid JSON" in r.output
