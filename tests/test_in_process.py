"""The in-process ``map``: in order, on threads or in worker processes, and when it may start
worker processes (CURATE_PROCESSES, set by the curate command for its own run)."""

import os

import pytest
from click.testing import CliRunner

import curate.in_process as ip
from curate.cli import cli
from curate.errors import CurateError
from curate.in_process import InProcess, processes_for


def square(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def fails_on_three(x: int) -> int:
    if x == 3:
        raise CurateError("item 3 is bad")
    return x


@pytest.mark.parametrize("how", [{}, {"threads": 2}, {"processes": 2}])
def test_results_come_in_item_order(how):
    out = InProcess().map(square, list(range(7)), desc="t", **how)
    assert [r for r, _ in out] == [x * x for x in range(7)]
    pids = {pid for _, pid in out}
    if "processes" in how:
        assert os.getpid() not in pids
    else:
        assert pids == {os.getpid()}


def test_an_error_in_a_worker_process_reaches_the_caller():
    with pytest.raises(CurateError, match="^item 3 is bad$"):
        InProcess().map(fails_on_three, [1, 2, 3, 4], desc="t", processes=2)


def test_processes_only_where_asked_and_the_work_is_large(monkeypatch):
    monkeypatch.delenv("CURATE_PROCESSES", raising=False)
    assert processes_for(10**9) == 1  # a library caller that did not opt in
    monkeypatch.setenv("CURATE_PROCESSES", "3")
    assert processes_for(ip.PROCESS_MIN_ROWS) == 3
    assert processes_for(ip.PROCESS_MIN_ROWS - 1) == 1
    assert processes_for(size=ip.PROCESS_MIN_BYTES) == 3
    monkeypatch.setenv("CURATE_PROCESSES", "many")
    with pytest.raises(CurateError, match="^CURATE_PROCESSES must be a whole number >= 1, "
                                          "not 'many'$"):
        processes_for(1)


def test_the_command_allows_processes_for_its_own_run(monkeypatch, tmp_path):
    import curate.runner

    monkeypatch.delenv("CURATE_PROCESSES", raising=False)
    monkeypatch.setattr(ip, "PROCESS_MIN_ROWS", 0)
    seen = []

    def spy(*args, **kwargs):
        seen.append(processes_for(1))
        raise CurateError("stopped by the test")

    monkeypatch.setattr(curate.runner, "run_recipe", spy)
    (tmp_path / "in.jsonl").write_text('{"instruction": "q", "output": "a"}\n')
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: t\ninput: {path: in.jsonl, format: alpaca}\nstages: []\n")
    result = CliRunner().invoke(cli, ["run", str(recipe), "-o", str(tmp_path / "o")])
    assert result.output.endswith("Error: stopped by the test\n"), result.output
    assert seen == [ip.default_processes()]
    assert "CURATE_PROCESSES" not in os.environ  # put back after the command
