"""The Python API: ``curate.run``/``curate.read_run``/``curate.Recipe``/``curate.Stage``, loaded
on first use; their docstring examples run; ``python -m curate`` is the command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

import curate
from curate.errors import CurateError

# the modules whose docstring examples are the API's documentation; each runs in a process
# of its own (an example may register a stage)
DOCTESTED = ("curate.api", "curate.recipe", "curate.stages.base", "curate.judge.specs",
             "curate.judge.modes")


@pytest.mark.parametrize("module", DOCTESTED)
def test_the_docstring_examples_run(module):
    code = ("import doctest, importlib, sys\n"
            f"m = importlib.import_module({module!r})\n"
            "r = doctest.testmod(m, optionflags=doctest.ELLIPSIS)\n"
            "print(r.attempted, r.failed)\n")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "CURATE_PROGRESS": "0"})
    assert ran.returncode == 0, ran.stderr
    attempted, failed = map(int, ran.stdout.split()[-2:])
    assert attempted > 0 and failed == 0, ran.stdout


def test_import_curate_loads_nothing_until_the_api_is_used():
    code = ("import sys, curate\n"
            "print(sorted(m for m in ('polars', 'pydantic', 'click', 'curate.api') "
            "if m in sys.modules))\n"
            "print(curate.Stage.__module__, curate.run.__module__, curate.Recipe.__module__)\n"
            "print(sorted(m for m in ('polars', 'curate.api') if m in sys.modules))")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == ["[]", "curate.stages.base curate.api curate.recipe",
                                       "['curate.api', 'polars']"]
    with pytest.raises(AttributeError, match="module 'curate' has no attribute 'nothing'"):
        curate.nothing  # noqa: B018
    assert {"run", "read_run", "Recipe", "Stage", "RowScorer", "GenerateStage"} <= set(dir(curate))


def _data(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"instruction": q, "output": a}) + "\n"
                            for q, a in (("Greet me.", "Hi!"), ("Greet me.", "Hi!"),
                                         ("Wave.", "Hello!"))))
    return path


def test_run_takes_a_yaml_file_and_an_engine_and_read_run_streams_the_run(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({"name": "r", "input": {"path": "in.jsonl"},
                                      "stages": [{"use": "dedup.exact"}],
                                      "export": [{"target": "trl-sft", "test_size": 1}]}))
    _data(tmp_path)  # beside the recipe: a relative input path is the recipe's folder's
    lines: list[str] = []
    run = curate.run(recipe, tmp_path / "out", engine="local", echo=lines.append)
    assert run.status == "done" and run.manifest["recipe"]["engine"] == "local"
    assert list(run.rejected) == ["convert", "dedup.exact"]  # no row the export refused
    assert run.rejected["convert"].height == 0
    assert run.data.height == 2
    assert [b.height for b in run.data.iter_batches(rows=1)] == [1, 1]
    assert run.rejected["dedup.exact"].scan().select("kept_id").collect().height == 1
    assert run.exports == {"trl-sft": tmp_path / "out" / "export" / "trl-sft"}
    assert (run.exports["trl-sft"] / "README.md").exists() and (tmp_path / "out" /
                                                                "report.html").exists()
    assert any(line.startswith("export trl-sft") for line in lines)


def test_read_run_of_a_folder_that_is_no_run_and_run_of_a_bad_recipe(tmp_path):
    with pytest.raises(CurateError, match=f"^{tmp_path}: not a run folder"):
        curate.read_run(tmp_path)
    with pytest.raises(CurateError, match=r"stages\[0\]\.use: unknown stage 'no\.such'"):
        curate.run({"name": "x", "input": {"path": str(_data(tmp_path))},
                    "stages": [{"use": "no.such"}]}, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_python_m_curate_is_the_command(tmp_path):
    helped = subprocess.run([sys.executable, "-m", "curate", "--help"], capture_output=True,
                            text=True)
    assert helped.returncode == 0 and helped.stdout.startswith("Usage: curate [OPTIONS] COMMAND")
    version = subprocess.run([sys.executable, "-m", "curate", "--version"],
                             capture_output=True, text=True)
    assert version.stdout == f"curate, version {curate.__version__}\n"
    ran = subprocess.run([sys.executable, "-m", "curate", "dedup", str(_data(tmp_path)), "-o",
                          str(tmp_path / "out")], capture_output=True, text=True)
    assert ran.returncode == 0 and "2 of 3 rows kept" in ran.stdout
    refused = subprocess.run([sys.executable, "-m", "curate", "show", str(tmp_path)],
                             capture_output=True, text=True)
    assert refused.returncode == 1 and refused.stderr.startswith(f"Error: {tmp_path}: not a "
                                                                 "run folder")
    assert subprocess.run([sys.executable, "-m", "curate", "nope"], capture_output=True,
                          text=True).returncode == 2
