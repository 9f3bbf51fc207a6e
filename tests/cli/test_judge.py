"""curate judge end to end on a scripted judge server (real HTTP): the judged run, its report
and manifest, the dry run, and a rerun answered by the cache. The pairs step (judge.pairs) is
built separately: these runs use --no-pairs."""

from __future__ import annotations

import json

import polars as pl
from click.testing import CliRunner

from curate.cli import cli

from ..judge.judges import judge_server


def _input(tmp_path, n=3):
    path = tmp_path / "cands.jsonl"
    path.write_text("".join(json.dumps({
        "messages": [{"role": "user", "content": f"Explain topic {i}."},
                     {"role": "assistant", "content": f"Short {i}."}],
        "candidates": [f"Short {i}.", f"A much longer answer about topic {i}, in detail."]})
        + "\n" for i in range(n)))
    return path


def test_judge_command_runs_reports_and_reuses_its_cache(tmp_path):
    server = judge_server()
    try:
        out = tmp_path / "out"
        args = ["judge", str(_input(tmp_path)), "-o", str(out), "--judge",
                f"openai:first@{server.url}", "--judge", f"openai:longer@{server.url}",
                "--no-pairs"]
        res = CliRunner().invoke(cli, args + ["--dry-run"])
        assert res.exit_code == 0, res.output
        assert "12 requests to send" in res.output and server.requests == []
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, res.output
        assert "position bias 50% (3 of 6 comparisons flipped" in res.output
        assert len(server.requests) == 12
        data = pl.read_parquet(out / "data.parquet")
        assert data["judge_score"].to_list() == [[0.25, 0.75]] * 3
        assert data["position_inconsistent"].to_list() == [True] * 3
        stats = json.loads((out / "manifest.json").read_text())["stages"][-1]["stats"]
        assert [j["position_bias_rate"] for j in stats["judges"]] == [1.0, 0.0]
        report = (out / "report.html").read_text()
        assert "Position-bias rate <b>50.0%</b>" in report
        assert "flipped with the order" in report and "<svg" in report
        res = CliRunner().invoke(cli, args + ["--resume"])
        assert res.exit_code == 0, res.output
        assert len(server.requests) == 12  # answered from the run's cache
    finally:
        server.close()


def test_judge_command_errors(tmp_path):
    path = _input(tmp_path, 1)
    res = CliRunner().invoke(cli, ["judge", str(path), "-o", str(tmp_path / "o"), "--judge",
                                   "openai:m", "--no-pairs"])
    assert res.exit_code == 1 and "expected openai:MODEL@BASE_URL" in res.output
    res = CliRunner().invoke(cli, ["judge", str(path), "-o", str(tmp_path / "o"), "--no-pairs",
                                   "--min-margin", "0.2"])
    assert res.exit_code == 2 and "--min-margin" in res.output
