"""A disk that fills and an output folder that is (or becomes) read-only, on real small file
systems: a tmpfs, else an ext4 image on a loop device (both need root, as in the CI
container). For each: the exit code, the one-line message, what manifest.json says, and that a
rerun once the fault is gone ends with the records of a run that never saw it."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest

from .runs import curate, finish, held

RECIPE = """name: disk
input: {path: in.jsonl}
stages:
  - use: dedup.exact
  - use: quality.rules
"""


def _run(*cmd: str) -> str | None:
    """None when ``cmd`` worked, else why not."""
    if shutil.which(cmd[0]) is None:
        return f"{cmd[0]}: not installed"
    done = subprocess.run(cmd, capture_output=True, text=True)
    return None if done.returncode == 0 else f"{' '.join(cmd[:3])}: {done.stderr.strip()}"


@contextmanager
def small_disk(where: Path, size_k: int, *, readonly: bool = False):
    """A file system of ``size_k`` KiB mounted at ``where``: a tmpfs, else an ext4 image on a
    loop device; the test is skipped, saying why, where neither can be mounted. A read-only
    folder for a user other than root (who may write anywhere) is a folder without write
    permission."""
    where.mkdir()
    if readonly and os.geteuid() != 0:
        where.chmod(0o555)
        try:
            yield where
        finally:
            where.chmod(0o755)
        return
    ro = ",ro" if readonly else ""
    why = _run("mount", "-t", "tmpfs", "-o", f"size={size_k}k{ro}", "tmpfs", str(where))
    if why is not None:
        image = where.with_name(where.name + ".img")
        loop = (_run("truncate", "-s", f"{size_k}k", str(image))
                or _run("mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-m", "0", str(image))
                or _run("mount", "-o", f"loop{ro}", str(image), str(where)))
        if loop is not None:
            pytest.skip(f"cannot mount a small file system here (tmpfs: {why}; loop device: "
                        f"{loop}); these tests need root with CAP_SYS_ADMIN, as in CI")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], capture_output=True)


def write_recipe(folder: Path) -> Path:
    """About 1 MiB of text that compresses little: each checkpoint takes about 1 MiB."""
    rng = random.Random(0)

    def text(n: int) -> str:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz     ") for _ in range(n))

    with open(folder / "in.jsonl", "w") as fh:
        for i in range(2000):
            fh.write(json.dumps({"instruction": f"Question {i}: {text(100)}", "input": "",
                                 "output": text(400)}) + "\n")
    (folder / "recipe.yaml").write_text(RECIPE)
    return folder / "recipe.yaml"


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    return write_recipe(tmp_path)


@pytest.fixture(scope="module")
def fresh_run(tmp_path_factory) -> Path:
    """The run folder of the recipe run on a disk without faults."""
    recipe = write_recipe(tmp_path_factory.mktemp("uninterrupted"))
    done = curate("run", str(recipe), "-o", "fresh", cwd=recipe.parent)
    assert done.returncode == 0, done.stderr
    return recipe.parent / "fresh"


@pytest.fixture
def uninterrupted(fresh_run: Path) -> pl.DataFrame:
    return pl.read_parquet(fresh_run / "data.parquet")


def test_a_disk_that_fills_fails_the_stage_and_resume_ends_as_a_full_run(recipe, fresh_run,
                                                                         uninterrupted):
    cwd = recipe.parent
    checkpoint = sum(p.stat().st_size
                     for p in (fresh_run / "stages" / "00_convert.parquet").iterdir())
    # room for the convert checkpoint and half of the next one
    with small_disk(cwd / "disk", int(checkpoint * 1.5) // 1024):
        failed = curate("run", str(recipe), "-o", "disk/out", cwd=cwd)
        assert failed.returncode == 1
        assert failed.stderr.splitlines() == [
            "Error: -o disk/out: no space left on device (errno 28); free some space or write "
            "elsewhere with -o"]
        manifest = json.loads((cwd / "disk/out/manifest.json").read_text())
        assert (manifest["status"], manifest["step"]) == ("failed", "01_dedup.exact")
        assert manifest["error"] == ("no space left on device (errno 28); free some space or "
                                     "write elsewhere with -o")
        assert [s["status"] for s in manifest["stages"]] == ["done", "failed"]
        # the half-written checkpoint is gone (its space is what the manifest was written in)
        assert sorted(p.name for p in (cwd / "disk/out/stages").iterdir()) == [
            "00_convert.parquet"]
        shutil.copytree(cwd / "disk/out", cwd / "moved")  # the user moves it to a larger disk
    resumed = curate("run", str(recipe), "-o", "moved", "--resume", cwd=cwd)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.splitlines()[0] == "resuming after 00_convert"
    assert pl.read_parquet(cwd / "moved" / "data.parquet").equals(uninterrupted)


def test_a_read_only_output_folder_is_refused_before_any_work(recipe, uninterrupted):
    cwd = recipe.parent
    with small_disk(cwd / "ro", 1024, readonly=True):
        refused = curate("run", str(recipe), "-o", "ro/out", cwd=cwd)
        assert refused.returncode == 1
        why = ("read-only file system (errno 30); the file system is read-only; choose "
               "another folder with -o" if os.geteuid() == 0 else
               "permission denied (errno 13); choose a folder you may write to with -o")
        assert refused.stderr.splitlines() == [f"Error: -o ro/out: cannot write in ro: {why}"]
        assert refused.stdout == "" and not (cwd / "ro" / "out").exists()
    again = curate("run", str(recipe), "-o", "ro/out", cwd=cwd)  # writable once unmounted
    assert again.returncode == 0, again.stderr
    assert pl.read_parquet(cwd / "ro/out/data.parquet").equals(uninterrupted)


def test_an_output_folder_that_turns_read_only_during_the_run(recipe, uninterrupted):
    """The folder becomes read-only between two stages: the run fails with one line, says that
    its manifest could not record it, and --resume goes on once the folder is writable."""
    cwd = recipe.parent
    go = cwd / "go"
    with small_disk(cwd / "disk", 8192) as disk:
        proc = held("between", ["run", str(recipe), "-o", "disk/out"], cwd,
                    PAUSE_AT_GO=str(go))
        assert _run("mount", "-o", "remount,ro", str(disk)) is None
        go.touch()
        done = finish(proc)
        out, err = done.stdout, done.stderr
        assert done.returncode == 1
        assert err.splitlines() == [
            "Error: disk/out/manifest.json.tmp: read-only file system (errno 30); the file "
            "system is read-only; choose another folder with -o"]
        assert out.splitlines()[-1] == (
            "warning: manifest.json could not say the run failed: disk/out/manifest.json.tmp: "
            "read-only file system (errno 30); the file system is read-only; choose another "
            "folder with -o")
        manifest = json.loads((cwd / "disk/out/manifest.json").read_text())
        assert [s["status"] for s in manifest["stages"]] == ["done"]  # as last written
        assert _run("mount", "-o", "remount,rw", str(disk)) is None
        resumed = curate("run", str(recipe), "-o", "disk/out", "--resume", cwd=cwd)
        assert resumed.returncode == 0, resumed.stderr
        assert resumed.stdout.splitlines()[0] == "resuming after 00_convert"
        assert pl.read_parquet(cwd / "disk/out/data.parquet").equals(uninterrupted)
        assert json.loads((cwd / "disk/out/manifest.json").read_text())["status"] == "done"
    assert not os.path.ismount(cwd / "disk")
