"""Ctrl-C and SIGTERM at each point of a run: the manifest says ``interrupted`` (the run, the
stage and the step), the command exits 130 with one line and no traceback, and ``--resume``
ends with the uninterrupted run's records and exports.

Each run is held at its point by tests/cli/pause_at.py, which writes a file when it got there;
the signal is sent once the file exists, so nothing depends on timing.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from .runs import curate, env, finish, held, until

ROWS = [
    ("What is 2+2?", "2+2 equals 4."),
    ("what is 2+2?", "2+2 EQUALS 4."),                      # an exact duplicate
    ("Name a primary colour.", "Red is a primary colour."),
    ("Say something.", "As an AI language model, I cannot do that."),  # a refusal
    ("Give me a fact.", "Water boils at 100 degrees Celsius at sea level."),
    ("Name a planet.", "Mars is the fourth planet from the Sun."),
]
RECIPE = """name: sig
input: {path: in.jsonl}
stages:
  - use: dedup.exact
  - use: quality.rules
export: [{target: trl-sft, test_size: 1}]
"""


def write_recipe(folder: Path) -> Path:
    (folder / "in.jsonl").write_text("".join(
        json.dumps({"instruction": q, "input": "", "output": a}) + "\n" for q, a in ROWS))
    path = folder / "recipe.yaml"
    path.write_text(RECIPE)
    return path


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    return write_recipe(tmp_path)


def interrupt(point: str, sig: int, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run ``curate ARGS`` held at ``point``, send ``sig`` there, wait for the end."""
    proc = held(point, args, cwd)
    proc.send_signal(sig)
    return finish(proc)


def export_files(run: Path) -> dict[str, bytes]:
    """The exported data files (the card names its run folder, so it differs by design)."""
    folder = run / "export" / "trl-sft"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "README.md"}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    """The run folder of the recipe run without a fault (read only by the tests)."""
    recipe = write_recipe(tmp_path_factory.mktemp("uninterrupted"))
    done = curate("run", str(recipe), "-o", "fresh", cwd=recipe.parent)
    assert done.returncode == 0, done.stderr
    return recipe.parent / "fresh"


# point, signal, the step the manifest names, the stages' statuses, what --resume says first
CASES = [
    ("convert", signal.SIGINT, "00_convert", ["interrupted"], None),
    ("between", signal.SIGTERM, "after 00_convert", ["done"], "resuming after 00_convert"),
    ("stage", signal.SIGINT, "02_quality.rules", ["done", "done", "interrupted"],
     "resuming after 01_dedup.exact"),
    ("stage", signal.SIGTERM, "02_quality.rules", ["done", "done", "interrupted"],
     "resuming after 01_dedup.exact"),
    ("finish_run", signal.SIGTERM, "finish_run", ["done"] * 3, "resuming after 02_quality.rules"),
    ("export", signal.SIGINT, "export", ["done"] * 3, "resuming after 02_quality.rules"),
    ("report", signal.SIGTERM, "report", ["done"] * 3, "resuming after 02_quality.rules"),
]


@pytest.mark.parametrize("point,sig,step,statuses,resumed", CASES,
                         ids=[f"{c[0]}-{c[1].name}" for c in CASES])
def test_a_signal_marks_the_run_interrupted_and_resume_ends_as_an_uninterrupted_run(
        recipe, uninterrupted, point, sig, step, statuses, resumed):
    cwd = recipe.parent
    stopped = interrupt(point, sig, ["run", str(recipe), "-o", "out"], cwd)
    assert stopped.returncode == 130, stopped.stderr
    where = "after 00_convert" if step.startswith("after") else f"during {step}"
    assert stopped.stderr.splitlines()[-1] == (
        f"interrupted ({sig.name}) {where}; out/manifest.json says status interrupted; run "
        "the same command with --resume to continue")
    assert "Traceback" not in stopped.stderr + stopped.stdout
    manifest = json.loads((cwd / "out" / "manifest.json").read_text())
    assert (manifest["status"], manifest["step"], manifest["error"]) == (
        "interrupted", step, f"interrupted ({sig.name})")
    assert [s["status"] for s in manifest["stages"]] == statuses
    assert not (cwd / "out" / "report.html").exists()  # a report only with status done

    resumed_run = curate("run", str(recipe), "-o", "out", "--resume", cwd=cwd)
    assert resumed_run.returncode == 0, resumed_run.stderr
    if resumed is not None:
        assert resumed_run.stdout.splitlines()[0] == resumed
    manifest = json.loads((cwd / "out" / "manifest.json").read_text())
    assert manifest["status"] == "done" and "error" not in manifest
    assert [s["status"] for s in manifest["stages"]] == ["done"] * 3
    assert (cwd / "out" / "report.html").exists()
    assert pl.read_parquet(cwd / "out" / "data.parquet").equals(
        pl.read_parquet(uninterrupted / "data.parquet"))
    assert export_files(cwd / "out") == export_files(uninterrupted)


def test_a_run_killed_while_writing_its_report_never_says_done(recipe, uninterrupted):
    """SIGKILL leaves no chance to write anything: the manifest still says what it said
    before the report, which is not done."""
    cwd = recipe.parent
    killed = interrupt("report", signal.SIGKILL, ["run", str(recipe), "-o", "out"], cwd)
    assert killed.returncode == -signal.SIGKILL
    assert json.loads((cwd / "out" / "manifest.json").read_text())["status"] == "running"
    resumed = curate("run", str(recipe), "-o", "out", "--resume", cwd=cwd)
    assert resumed.returncode == 0, resumed.stderr
    assert pl.read_parquet(cwd / "out" / "data.parquet").equals(
        pl.read_parquet(uninterrupted / "data.parquet"))


def test_a_swallowed_interrupt_still_never_exits_0(recipe):
    """Code that catches KeyboardInterrupt and goes on (here: inside a stage) cannot turn a
    Ctrl-C into success: the run finishes, and the command exits 130 saying so."""
    cwd = recipe.parent
    proc = held("stage", ["run", str(recipe), "-o", "out"], cwd, PAUSE_AT_SWALLOW="1")
    proc.send_signal(signal.SIGINT)
    done = finish(proc)
    assert done.returncode == 130 and done.stderr.splitlines() == ["interrupted (SIGINT)"]
    assert json.loads((cwd / "out" / "manifest.json").read_text())["status"] == "done"


def test_a_stage_command_without_resume_says_to_run_it_again(recipe):
    cwd = recipe.parent
    stopped = interrupt("convert", signal.SIGTERM, ["convert", "in.jsonl", "-o", "conv"], cwd)
    assert stopped.returncode == 130
    assert stopped.stderr.splitlines()[-1] == (
        "interrupted (SIGTERM) during 00_convert; conv/manifest.json says status interrupted; "
        "run the same command again to redo it")
    again = curate("convert", "in.jsonl", "-o", "conv", cwd=cwd)
    assert again.returncode == 0 and json.loads(
        (cwd / "conv" / "manifest.json").read_text())["status"] == "done"


def test_sigterm_under_the_ray_engine_is_an_interrupt_too(recipe, uninterrupted):
    """ray.init installs a SIGTERM handler that exits with 15 ("failed"); curate keeps its own."""
    cwd = recipe.parent
    stopped = interrupt("stage", signal.SIGTERM,
                        ["run", str(recipe), "-o", "out", "--engine", "ray"], cwd)
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.splitlines()[-1].startswith(
        "interrupted (SIGTERM) during 02_quality.rules; ")
    manifest = json.loads((cwd / "out" / "manifest.json").read_text())
    assert (manifest["status"], manifest["engine"]) == ("interrupted", "ray")
    resumed = curate("run", str(recipe), "-o", "out", "--resume", cwd=cwd)
    assert resumed.returncode == 0, resumed.stderr
    assert pl.read_parquet(cwd / "out" / "data.parquet").equals(
        pl.read_parquet(uninterrupted / "data.parquet"))


def test_ctrl_c_while_llm_requests_hang_stops_at_once(tmp_path):
    """Requests in flight (here: never answered, with a 120 s timeout) do not hold the
    command: it exits 130 as soon as the signal comes, and --resume sends them again."""
    from ..llm.chat_server import ChatServer

    (tmp_path / "p.jsonl").write_text("".join(
        json.dumps({"prompt": f"Describe item {i}."}) + "\n" for i in range(4)))
    server = ChatServer()
    try:
        args = ["generate", "p.jsonl", "--task", "responses", "--llm", "openai", "--model",
                "m", "--base-url", server.url, "--concurrency", "2"]
        assert curate(*args, "-o", "fresh", cwd=tmp_path).returncode == 0
        server.faults = ["hang"] * 2
        proc = subprocess.Popen([sys.executable, "-m", "curate.cli", *args, "-o", "out"],
                                cwd=tmp_path, env=env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # both requests are in flight, unanswered
        until(lambda: len(server.requests) == 4 + 2, proc, "the requests were never sent")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)  # far less than the requests' 120 s timeout
        assert proc.returncode == 130, err
        assert err.splitlines()[-1] == (
            "interrupted (SIGINT) during 01_generate.responses; out/manifest.json says status "
            "interrupted; run the same command with --resume to continue")
        manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
        assert [s["status"] for s in manifest["stages"]] == ["done", "interrupted"]

        resumed = curate(*args, "-o", "out", "--resume", cwd=tmp_path)
        assert resumed.returncode == 0, resumed.stderr
        assert "4 requests, 0 from the cache" in resumed.stdout
        assert pl.read_parquet(tmp_path / "out" / "data.parquet").equals(
            pl.read_parquet(tmp_path / "fresh" / "data.parquet"))
    finally:
        server.close()
