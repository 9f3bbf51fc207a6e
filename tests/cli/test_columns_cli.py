"""--columns and --encoding on the commands that read input, errors that name the way on, and
output folders that cannot be written: one line on stderr, never a traceback."""

import json
import os
from pathlib import Path

import click
import polars as pl
import pytest
from click.testing import CliRunner

from curate.cli import cli

SKIP = ("--on-error skip (on_error: skip in a recipe) keeps such rows in rejected/ with their "
        "reason")
GSM8K = [{"question": "Natalia sold 48 clips in April and half as many in May. How many in all?",
          "answer": "48/2 = 24 in May.\n48+24 = 72.\n#### 72"},
         {"question": "Weng earns $12 an hour. She worked 50 minutes. How much did she earn?",
          "answer": "12/60 = 0.2 per minute; 0.2 x 50 = 10.\n#### 10"},
         {"question": "Weng earns $12 an hour. She worked 50 minutes. How much did she earn?",
          "answer": "12/60 = 0.2 per minute; 0.2 x 50 = 10.\n#### 10"}]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def gsm8k(tmp_path: Path) -> Path:
    path = tmp_path / "gsm8k.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in GSM8K), encoding="utf-8")
    return path


def test_convert_prints_the_detected_map(gsm8k, tmp_path):
    out = tmp_path / "c"
    r = invoke("convert", gsm8k, "-o", out)
    assert r.exit_code == 0, r.output
    assert r.stdout == ("00_convert                     3 -> 3\n"
                        f"wrote {out}/data.parquet: 3 of 3 rows kept\n"
                        f"  {gsm8k}: columns prompt=question,response=answer\n")
    given = invoke("convert", gsm8k, "-o", tmp_path / "g", "--columns",
                   "prompt=question,response=answer")
    assert given.exit_code == 0, given.output
    assert pl.read_parquet(out / "data.parquet").equals(
        pl.read_parquet(tmp_path / "g" / "data.parquet"))


def test_every_stage_command_takes_a_map(gsm8k, tmp_path):
    out = tmp_path / "d"
    r = invoke("dedup", gsm8k, "-o", out, "--columns", "prompt=question,response=answer")
    assert r.exit_code == 0, r.output
    assert r.stdout == ("00_convert                     3 -> 3\n"
                        "01_dedup.exact                 3 -> 2       dropped duplicate_exact: 1\n"
                        f"wrote {out}/data.parquet: 2 of 3 rows kept\n"
                        f"  {gsm8k}: columns prompt=question,response=answer\n")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["recipe"]["input"]["columns"] == {"prompt": "question", "response": "answer"}
    r = invoke("export", out, "-o", out / "export" / "sft", "--target", "trl-sft",
               "--test-size", "1")
    assert r.exit_code == 0, r.output
    card = (out / "export" / "sft" / "README.md").read_text()
    assert f"| `{gsm8k}` | columns `prompt=question,response=answer` | `" in card
    r = invoke("filter", gsm8k, "-o", tmp_path / "f", "--columns",
               "prompt=answer,response=question")
    assert r.exit_code == 0, r.output
    assert r.stdout.endswith(f"  {gsm8k}: columns prompt=answer,response=question\n")
    r = invoke("export", gsm8k, "-o", tmp_path / "x", "--target", "trl-sft", "--test-size", "1")
    assert r.exit_code == 0, r.output


def test_a_bad_map_is_a_usage_error(gsm8k, tmp_path):
    r = invoke("convert", gsm8k, "-o", tmp_path / "c", "--columns", "prompt=question")
    assert r.exit_code == 2
    assert "Invalid value for '--columns': give prompt and response;" in r.stderr


def test_encoding(tmp_path):
    path = tmp_path / "l1.csv"
    path.write_bytes("prompt,response\n¿Qué tal?,Muy bien.\n".encode("latin-1"))
    r = invoke("convert", path, "-o", tmp_path / "c")
    assert r.exit_code == 1
    assert r.stderr == (f"Error: {path}:2: not valid UTF-8 at byte 16; if the file is in "
                        "another encoding, name it with --encoding (e.g. --encoding latin-1); "
                        f"{SKIP}\n")
    r = invoke("convert", path, "-o", tmp_path / "c", "--encoding", "latin-1")
    assert r.exit_code == 0, r.output
    msgs = pl.read_parquet(tmp_path / "c" / "data.parquet")["messages"][0]
    assert msgs[0]["content"] == "¿Qué tal?"
    r = invoke("convert", path, "-o", tmp_path / "c", "--encoding", "latin-9x")
    assert r.exit_code == 2 and "unknown encoding 'latin-9x'" in r.stderr


def test_a_broken_pair_names_skip_and_skip_keeps_it(tmp_path):
    path = tmp_path / "pairs.jsonl"
    rows = [{"question": f"q{i}?", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(3)]
    rows[1]["chosen"] = " "
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = invoke("convert", path, "-o", tmp_path / "c")
    assert r.exit_code == 1
    assert r.stderr == (f"Error: {path}:2: field 'chosen': empty or whitespace-only text (columns "
                        f"prompt=question,chosen=chosen,rejected=rejected); {SKIP}\n")
    r = invoke("convert", path, "-o", tmp_path / "c", "--on-error", "skip")
    assert r.exit_code == 0
    rejected = pl.read_parquet(tmp_path / "c" / "rejected" / "00_convert.parquet")
    assert rejected.select("line", "field", "drop_reason").rows() == [(2, "chosen", "empty_turn")]


def test_export_of_raw_rows_names_convert_skip(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "a?", "answer": "b"}\n{"question": "c?"}\n')
    r = invoke("export", path, "-o", tmp_path / "x", "--target", "trl-sft")
    assert r.exit_code == 1
    assert r.stderr == (
        f"Error: {path}:2: field 'answer': no key 'answer' in the row (its keys: question); read "
        f"as response (columns prompt=question,response=answer); `curate convert {path} -o RUN "
        "--on-error skip` keeps such rows in RUN/rejected/ with their reason; then give RUN to "
        "this command\n")


def test_export_picks_the_task_from_pairs(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps({"question": f"What is {i}+{i}?", "chosen": f"{2 * i}.",
                                        "rejected": f"{2 * i + 1}."}) + "\n" for i in range(10)))
    assert invoke("convert", path, "-o", tmp_path / "run").exit_code == 0
    out = tmp_path / "lf"
    r = invoke("export", tmp_path / "run", "-o", out, "--target", "llama-factory",
               "--test-size", "2")
    assert r.exit_code == 0, r.output
    assert r.stdout == (f"wrote {out} (llama-factory): train: 8, test: 2\n"
                        "  task dpo: every row is a preference pair (--task sft to choose "
                        "otherwise)\n")
    assert json.loads((out / "dataset_info.json").read_text())["curate_train"]["ranking"] is True
    r = invoke("export", tmp_path / "run", "-o", tmp_path / "o", "--target", "llama-factory",
               "--task", "sft")
    assert r.exit_code == 1
    assert r.stderr == ("Error: nothing to export to llama-factory: none of the 10 rows qualifies "
                        "(wrong_kind: 10); the wrong_kind rows are preference pairs: --task dpo "
                        "exports them\n")


def test_output_that_is_a_file_or_unwritable(gsm8k, tmp_path):
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    for args in (["convert", gsm8k], ["export", gsm8k, "--target", "trl-sft"]):
        r = invoke(*args, "-o", a_file)
        assert r.exit_code == 1
        assert r.stderr == (f"Error: -o {a_file}: this is a file, not a folder; give a folder to "
                            "write into (it is created if missing)\n")
    r = invoke("convert", gsm8k, "-o", a_file / "sub")
    assert r.stderr == (f"Error: -o {a_file / 'sub'}: {a_file} is a file, so no folder can be "
                        "made in it; choose another -o\n")
    if Path("/sys").is_dir():  # a folder nobody may write in, root included
        r = invoke("convert", gsm8k, "-o", "/sys/curate-test")
        assert r.exit_code == 1
        assert r.stderr.startswith("Error: -o /sys/curate-test: cannot write in /sys: ")
        assert r.stderr.endswith("; choose a folder you may write to with -o\n")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_one_line(gsm8k, tmp_path, monkeypatch):
    """The converter's parts written to /dev/full: the real parquet writer meets a full
    device."""
    import curate.convert.file_task
    from curate.io.parquet import write_parquet

    out = tmp_path / "run"
    monkeypatch.setattr(curate.convert.file_task, "write_parquet",
                        lambda df, path, **options: write_parquet(df, "/dev/full", **options))
    r = invoke("convert", gsm8k, "-o", out)
    assert r.exit_code == 1
    assert r.stderr == (f"Error: -o {out}: no space left on device (errno 28); free some space "
                        "or write elsewhere with -o\n")


def test_an_unexpected_error_is_one_line_naming_a_bug(monkeypatch):
    @click.command("boom")
    def boom():
        raise KeyError("x")

    cli.add_command(boom)
    try:
        r = invoke("boom")
        assert r.exit_code == 1
        assert r.stderr == ("Error: unexpected KeyError: 'x'; this is a bug in curate, please "
                            "report it (CURATE_DEBUG=1 shows the traceback)\n")
        monkeypatch.setenv("CURATE_DEBUG", "1")
        assert isinstance(invoke("boom").exception, KeyError)
    finally:
        cli.commands.pop("boom")
