"""curate never changes or deletes a file it did not write (issue 26, "data loss and stale
outputs"): every refusal comes before any work, says which file and what to do, and leaves
every byte of the folders as they were."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from curate.cli import cli

ROWS = [{"instruction": f"Question {i}?", "output": f"Answer {i}."} for i in range(6)]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def write_rows(path: Path, rows=ROWS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (hidden ones too), by relative path."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"


@pytest.fixture
def ds(tmp_path) -> Path:
    """The user's dataset folder: their data and their README."""
    folder = tmp_path / "ds"
    write_rows(folder / "train.jsonl")
    (folder / "README.md").write_text("# my dataset\nnotes I wrote\n", encoding="utf-8")
    return folder


@pytest.fixture
def read_only(ds):
    """``ds`` made read-only (files and folder), writable again afterwards."""
    modes = {p: p.stat().st_mode for p in [ds, *ds.rglob("*")]}
    for p in modes:
        p.chmod(stat.S_IMODE(modes[p]) & ~0o222)
    yield ds
    for p, mode in modes.items():
        p.chmod(stat.S_IMODE(mode))


# -- 1. export into a folder with the user's files ------------------------------------------

def test_export_into_its_input_folder_is_refused_up_front(read_only, tmp_path):
    before = snapshot(read_only)
    r = invoke("export", read_only, "-o", read_only, "--target", "trl-sft")
    refused(r, f"-o {read_only}: this is the input {read_only}; write to another folder "
               "(curate never writes over its input)")
    assert snapshot(read_only) == before


def test_export_refuses_to_replace_or_delete_the_users_split_files(ds, tmp_path):
    out = tmp_path / "out"
    write_rows(out / "train.jsonl", ROWS[:2])
    (out / "validation.jsonl").write_text('{"mine": 1}\n', encoding="utf-8")
    (out / "notes.txt").write_text("keep me\n", encoding="utf-8")
    before = snapshot(out)
    r = invoke("export", ds / "train.jsonl", "-o", out, "--target", "trl-sft", "--test-size", "1")
    refused(r, f"-o {out}: {out}/train.jsonl was not written by curate (and 1 more: "
               "validation.jsonl); pass --overwrite to let curate replace them, or choose "
               "another -o")
    assert snapshot(out) == before

    # --overwrite: curate replaces (and, with no validation split, removes) the files it names,
    # and leaves every other file of the user's alone
    r = invoke("export", ds / "train.jsonl", "-o", out, "--target", "trl-sft", "--test-size", "1",
               "--overwrite")
    assert r.exit_code == 0, r.output
    assert not (out / "validation.jsonl").exists()
    assert (out / "notes.txt").read_text() == "keep me\n"
    assert len((out / "train.jsonl").read_text().splitlines()) == 5
    marker = json.loads((out / ".curate.json").read_text())
    assert marker == {"written_by": "curate", "kind": "export", "target": "trl-sft",
                      "files": ["README.md", "test.jsonl", "test.parquet", "train.jsonl",
                                "train.parquet"]}


def test_reexport_replaces_and_removes_only_curates_own_files(ds, tmp_path):
    out = tmp_path / "out"
    args = ("export", ds / "train.jsonl", "-o", out, "--target", "trl-sft", "--test-size", "1")
    assert invoke(*args, "--validation-size", "1").exit_code == 0
    assert (out / "validation.parquet").is_file()
    (out / "notes.md").write_text("mine\n", encoding="utf-8")
    (out / "extra").mkdir()
    (out / "extra" / "test.jsonl").write_text("mine\n", encoding="utf-8")
    r = invoke(*args)  # no validation split now: curate's old one goes, nothing else
    assert r.exit_code == 0, r.output
    assert sorted(snapshot(out)) == [".curate.json", "README.md", "extra/test.jsonl", "notes.md",
                                     "test.jsonl", "test.parquet", "train.jsonl",
                                     "train.parquet"]
    assert (out / "notes.md").read_text() == "mine\n"


def test_export_refuses_a_run_folder_as_its_output(ds, tmp_path):
    run = tmp_path / "run"
    assert invoke("convert", ds / "train.jsonl", "-o", run).exit_code == 0
    before = snapshot(run)
    r = invoke("export", ds / "train.jsonl", "-o", run, "--target", "trl-sft")
    refused(r, f"-o {run}: a run folder; export into {run}/export/NAME or another folder")
    assert snapshot(run) == before


# -- 2. output inside the input, input inside the output --------------------------------------

@pytest.mark.parametrize("command", [("convert",), ("dedup",), ("filter",),
                                     ("sample", "--n", "2"), ("generate", "--task", "responses"),
                                     ("judge",)])
def test_stage_commands_refuse_output_in_input_and_the_reverse(read_only, tmp_path, command):
    before = snapshot(read_only)
    name, *rest = command
    r = invoke(name, read_only, "-o", read_only, *rest)
    refused(r, f"-o {read_only}: this is the input {read_only}; write to another folder "
               "(curate never writes over its input)")
    r = invoke(name, read_only, "-o", read_only / "run", *rest)
    refused(r, f"-o {read_only}/run: this folder is inside the input {read_only}, so reading "
               f"{read_only} would read the output too; write outside {read_only}")
    r = invoke(name, read_only / "train.jsonl", "-o", read_only, *rest)
    refused(r, f"-o {read_only}: the input {read_only}/train.jsonl is inside this folder; write "
               "to a folder outside it (curate never writes over its input)")
    assert snapshot(read_only) == before


def test_run_refuses_output_over_its_recipe_input(ds, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({"name": "r", "input": {"path": str(ds)},
                                      "stages": [{"use": "dedup.exact"}]}))
    before = snapshot(ds)
    r = invoke("run", recipe, "-o", ds / "out")
    refused(r, f"-o {ds}/out: this folder is inside the input {ds}, so reading {ds} would read "
               f"the output too; write outside {ds}")
    r = invoke("run", recipe, "-o", ds.parent)
    refused(r, f"-o {ds.parent}: the input {ds} is inside this folder; write to a folder outside "
               "it (curate never writes over its input)")
    assert snapshot(ds) == before


def test_an_export_of_a_run_may_go_into_the_runs_export_folder(ds, tmp_path):
    run = tmp_path / "run"
    assert invoke("convert", ds / "train.jsonl", "-o", run).exit_code == 0
    r = invoke("export", run, "-o", run / "export" / "mine", "--target", "trl-sft",
               "--test-size", "1")
    assert r.exit_code == 0, r.output
    r = invoke("dedup", run, "-o", run / "deduped")
    refused(r, f"-o {run}/deduped: this folder is inside the input {run}, so reading {run} "
               f"would read the output too; write outside {run} (or into its export/ folder)")


def test_label_pull_refuses_to_write_over_the_judged_run(tmp_path):
    run = tmp_path / "run"
    assert invoke("convert", write_rows(tmp_path / "a.jsonl"), "-o", run).exit_code == 0
    before = snapshot(run)
    r = invoke("label", "pull", "--dataset", "x", "--judged", run, "-o", run)  # no server needed
    refused(r, f"-o {run}: this is the input {run}; write to another folder (curate never "
               "writes over its input)")
    assert snapshot(run) == before


# -- 3. a folder of data files does not silently become a run folder --------------------------

def test_a_run_is_not_written_beside_data_files_curate_did_not_write(tmp_path):
    src = write_rows(tmp_path / "src" / "a.jsonl")
    folder = tmp_path / "F"
    write_rows(folder / "b.jsonl")
    (folder / "sub").mkdir()
    write_rows(folder / "sub" / "c.jsonl")
    before = snapshot(folder)
    r = invoke("convert", src, "-o", folder)
    refused(r, f"-o {folder}: {folder}/b.jsonl is a data file curate did not write; a run folder "
               "is read as its data.parquet alone, so it would be ignored: write the run to a "
               "new or empty folder")
    (folder / "b.jsonl").rename(tmp_path / "b.jsonl")
    r = invoke("convert", src, "-o", folder)
    refused(r, f"-o {folder}: {folder}/sub/ is a folder curate did not write; a run folder is "
               "read as its data.parquet alone, so it would be ignored: write the run to a new "
               "or empty folder")
    (folder / "data.parquet").write_bytes(b"mine")
    r = invoke("convert", src, "-o", folder)
    refused(r, f"-o {folder}: {folder}/data.parquet was not written by curate and a run writes "
               "there: write the run to a new or empty folder")
    assert (folder / "data.parquet").read_bytes() == b"mine"
    assert snapshot(folder / "sub") == {k[4:]: v for k, v in before.items()
                                        if k.startswith("sub/")}


def test_reading_a_run_folder_with_other_data_files_is_an_error(tmp_path):
    run = tmp_path / "run"
    assert invoke("convert", write_rows(tmp_path / "a.jsonl"), "-o", run).exit_code == 0
    write_rows(run / "b.jsonl")
    for args in (("convert", run, "-o", tmp_path / "c"),
                 ("export", run, "-o", tmp_path / "e", "--target", "trl-sft")):
        r = invoke(*args)
        refused(r, f"{run}: a run folder, read as its data.parquet alone, but it also holds "
                   "b.jsonl, which would be ignored; move such files out of the run folder, or "
                   "give them as their own input")
    # and writing a new run into it is refused as well: b.jsonl is not curate's
    r = invoke("convert", tmp_path / "a.jsonl", "-o", run)
    refused(r, f"-o {run}: {run}/b.jsonl is a data file curate did not write; a run folder is "
               "read as its data.parquet alone, so it would be ignored: write the run to a new "
               "or empty folder")
    assert not (tmp_path / "c").exists() and not (tmp_path / "e").exists()


def test_a_run_folder_whose_run_failed_is_not_read_as_a_folder_of_files(tmp_path):
    run = tmp_path / "run"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "x"\n', encoding="utf-8")
    assert invoke("convert", bad, "-o", run).exit_code == 1
    r = invoke("convert", run, "-o", tmp_path / "c")
    refused(r, f"{run}: a run folder without data.parquet: its run did not finish (see `curate "
               "show`); rerun it, or give one of its stages/*.parquet checkpoints")


# -- 4. two exports of one target in a recipe ------------------------------------------------

def test_validate_rejects_two_exports_into_one_folder(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": "r", "input": {"path": "x.jsonl"}, "stages": [],
        "export": [{"target": "trl-sft"}, {"target": "trl-dpo"},
                   {"target": "trl-sft", "test_size": 0.2}]}))
    message = (f"Error: {recipe}: export[2].target: trl-sft is exported already by export[0] "
               "into export/trl-sft; a recipe exports each target once (another variant: "
               "`curate export RUN -o FOLDER` after the run)\n")
    for command in ("validate", "run"):
        r = invoke(command, recipe, *(("-o", tmp_path / "o") if command == "run" else ()))
        assert r.exit_code == 1 and r.stderr == message
    assert not (tmp_path / "o").exists()


# -- 5. a new run into an old run folder -----------------------------------------------------

def _recipe(path: Path, data: Path, stages: list[str], targets: list[str]) -> Path:
    path.write_text(yaml.safe_dump({
        "name": "r", "input": {"path": str(data)}, "on_error": "skip",
        "stages": [{"use": s} for s in stages],
        "export": [{"target": t, "test_size": 1} for t in targets]}))
    return path


def test_a_new_run_removes_what_the_old_run_wrote_and_nothing_else(tmp_path):
    big = write_rows(tmp_path / "big.jsonl",
                     [{"instruction": f"Q {i}?", "output": f"A {i}."} for i in range(40)])
    small = write_rows(tmp_path / "small.jsonl", ROWS[:4])
    run = tmp_path / "run"
    old = _recipe(tmp_path / "old.yaml", big, ["dedup.exact", "quality.rules"],
                  ["trl-sft", "openai"])
    assert invoke("run", old, "-o", run, "--no-report").exit_code == 0
    assert invoke("export", run, "-o", run / "export" / "mine", "--target", "trl-sft"
                  ).exit_code == 0
    (run / "NOTES.txt.bak").write_text("my notes\n", encoding="utf-8")
    (run / "plots").mkdir()
    (run / "plots" / "funnel.png").write_bytes(b"\x89PNG mine")
    (run / "stages" / "mine.txt").write_text("mine\n", encoding="utf-8")
    mine = {k: v for k, v in snapshot(run).items()
            if k in ("NOTES.txt.bak", "plots/funnel.png", "stages/mine.txt")}

    new = _recipe(tmp_path / "new.yaml", small, ["dedup.exact"], ["trl-sft"])
    r = invoke("run", new, "-o", run)
    assert r.exit_code == 0, r.output
    after = snapshot(run)
    assert {k: after[k] for k in mine} == mine
    assert sorted(k for k in after if k not in mine) == [
        ".curate.json", "data.parquet/part-00000.parquet", "export/trl-sft/.curate.json",
        "export/trl-sft/README.md", "export/trl-sft/test.jsonl", "export/trl-sft/test.parquet",
        "export/trl-sft/train.jsonl", "export/trl-sft/train.parquet", "manifest.json",
        "rejected/00_convert.parquet/part-00000.parquet",
        "rejected/01_dedup.exact.parquet/part-00000.parquet", "report.html",
        "stages/00_convert.parquet/part-00000.parquet",
        "stages/01_dedup.exact.parquet/part-00000.parquet"]
    shown = json.loads(invoke("show", run, "--json").stdout)
    assert [e["target"] for e in shown["exports"]] == ["trl-sft"]
    assert shown["exports"][0]["counts"] == {"train": 3, "test": 1}
    assert [s["name"] for s in shown["stages"]] == ["convert", "dedup.exact"]
    assert (shown["rows_in"], shown["rows_out"]) == (4, 4)


def test_resume_and_from_still_reuse_checkpoints(tmp_path):
    data = write_rows(tmp_path / "in.jsonl")
    run = tmp_path / "run"
    recipe = _recipe(tmp_path / "r.yaml", data, ["dedup.exact", "quality.rules"], ["trl-sft"])
    assert invoke("run", recipe, "-o", run, "--no-report").exit_code == 0
    checkpoint = run / "stages" / "00_convert.parquet" / "part-00000.parquet"
    convert_bytes = checkpoint.read_bytes()
    r = invoke("run", recipe, "-o", run, "--no-report", "--resume")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("resuming after 02_quality.rules\n")
    r = invoke("run", recipe, "-o", run, "--no-report", "--from", "quality.rules")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("resuming after 01_dedup.exact\n02_quality.rules")
    assert checkpoint.read_bytes() == convert_bytes
    assert pl.read_parquet(run / "data.parquet").height == 6
    assert (run / "export" / "trl-sft" / "train.parquet").is_file()


def test_a_run_folder_from_before_the_marker_is_still_curates(tmp_path):
    """A run folder an older curate wrote has a manifest but no .curate.json: it takes a new
    run, and its old export (listed in the manifest) goes; an export folder the manifest does
    not list and no marker names stays."""
    data = write_rows(tmp_path / "in.jsonl")
    run = tmp_path / "run"
    r = invoke("run", _recipe(tmp_path / "r.yaml", data, ["dedup.exact"], ["trl-sft"]),
               "-o", run, "--no-report")
    assert r.exit_code == 0, r.output
    for marker in run.rglob(".curate.json"):
        marker.unlink()
    write_rows(run / "export" / "theirs" / "train.jsonl")
    r = invoke("run", _recipe(tmp_path / "n.yaml", data, ["dedup.exact"], []), "-o", run,
               "--no-report")
    assert r.exit_code == 0, r.output
    assert not (run / "export" / "trl-sft").exists()
    assert (run / "export" / "theirs" / "train.jsonl").read_text() == \
        (tmp_path / "in.jsonl").read_text()
    assert json.loads((run / ".curate.json").read_text()) == {"written_by": "curate",
                                                              "kind": "run"}
    assert json.loads(invoke("show", run, "--json").stdout)["exports"] == []


def test_a_run_stops_before_its_stages_for_a_users_file_where_it_exports(tmp_path):
    data = write_rows(tmp_path / "in.jsonl")
    run = tmp_path / "run"
    recipe = _recipe(tmp_path / "r.yaml", data, ["dedup.exact"], ["trl-sft"])
    assert invoke("run", recipe, "-o", run, "--no-report").exit_code == 0
    (run / "export" / "trl-sft" / ".curate.json").unlink()  # as if the files were the user's
    before = snapshot(run)
    r = invoke("run", recipe, "-o", run, "--no-report")
    target = run / "export" / "trl-sft"
    refused(r, f"export folder {target}: {target}/train.parquet was not written by curate (and "
               "4 more: train.jsonl, test.parquet, test.jsonl, README.md); move them out of the "
               "run folder")
    assert snapshot(run) == before  # the old run as it was: nothing removed, nothing run


# -- 6. publish only what curate wrote -------------------------------------------------------

def test_publish_lists_only_the_files_curate_wrote(ds, tmp_path):
    out = tmp_path / "sft"
    assert invoke("export", ds / "train.jsonl", "-o", out, "--target", "trl-sft",
                  "--test-size", "1").exit_code == 0
    (out / "notes.md").write_text("private notes\n", encoding="utf-8")
    (out / "drafts").mkdir()
    (out / "drafts" / "train.jsonl").write_text("{}\n", encoding="utf-8")
    r = invoke("publish", out, "--repo-id", "me/sft", "--dry-run")
    assert r.exit_code == 0, r.output
    listed = [line.split()[0] for line in r.stdout.splitlines()[1:]]
    assert listed == ["README.md", "test.jsonl", "test.parquet", "train.jsonl",
                      "train.parquet"]


def test_a_read_only_output_is_one_line_and_untouched(ds, tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        if os.access(out, os.W_OK):
            pytest.skip("this user writes into read-only folders (root with CAP_DAC_OVERRIDE)")
        r = invoke("convert", ds / "train.jsonl", "-o", out / "run")
        refused(r, f"-o {out}/run: cannot write in {out}: permission denied (errno 13); choose "
                   "a folder you may write to with -o")
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o755)
