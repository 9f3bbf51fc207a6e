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
    assert res.exit_code == 2 and res.output.endswith(
        "Error: --judge: judge 'openai:m': expected openai:MODEL@BASE_URL, e.g. "
        "openai:my-model@http://127.0.0.1:8000/v1\n")
    res = CliRunner().invoke(cli, ["judge", str(path), "-o", str(tmp_path / "o"), "--no-pairs",
                                   "--min-margin", "0.2"])
    assert res.exit_code == 2 and "--min-margin" in res.output
    res = CliRunner().invoke(cli, ["judge", str(path), "-o", str(tmp_path / "o"),
                                   "--min-margin", "-1"])
    assert res.exit_code == 2 and res.output.endswith(
        "Error: Invalid value for '--min-margin': -1.0 is not in the range x>=0.\n")
    assert not (tmp_path / "o").exists()  # usage errors come before any work


def test_a_candidate_with_only_unreadable_votes_is_unparseable_not_too_few(tmp_path):
    server = judge_server()  # picky: nothing readable about the two-word "Short i." replies
    try:
        out = tmp_path / "out"
        res = CliRunner().invoke(cli, ["judge", str(_input(tmp_path, 2)), "-o", str(out),
                                       "--judge", f"openai:picky@{server.url}",
                                       "--mode", "pointwise"])
        assert res.exit_code == 0, res.output
        assert "02_judge.pairs                 2 -> 0       dropped unparseable: 2" in res.output
        rejected = pl.read_parquet(out / "rejected" / "02_judge.pairs.parquet")
        assert rejected["drop_reason"].to_list() == ["unparseable"] * 2
        # the short reply has no score (no readable vote), the long one has
        assert [(a is None, b is None) for a, b in rejected["judge_score"].to_list()] == \
            [(True, False)] * 2
    finally:
        server.close()


def test_a_judge_biased_to_the_first_position_reads_100_percent_and_makes_no_pair(tmp_path):
    server = judge_server()
    try:
        out = tmp_path / "out"
        res = CliRunner().invoke(cli, ["judge", str(_input(tmp_path, 4)), "-o", str(out),
                                       "--judge", f"openai:first@{server.url}"])
        assert res.exit_code == 0, res.output
        assert "position bias 100% (4 of 4 comparisons flipped" in res.output
        assert pl.read_parquet(out / "data.parquet").height == 0
        manifest = json.loads((out / "manifest.json").read_text())
        pairs = next(s for s in manifest["stages"] if s["name"] == "judge.pairs")
        assert (pairs["rows_in"], pairs["rows_out"]) == (4, 0)
        assert pairs["dropped"] == {"position_inconsistent": 4}
        report = (out / "report.html").read_text()
        assert "Position-bias rate <b>100.0%</b>: 4 of 4 comparisons" in report
        rejected = pl.read_parquet(out / "rejected" / f"{pairs['index']:02d}_judge.pairs.parquet")
        assert rejected["position_inconsistent"].to_list() == [True] * 4
    finally:
        server.close()


def test_judge_then_export_dpo_with_every_pair_named(tmp_path):
    server = judge_server()
    try:
        out = tmp_path / "out"
        res = CliRunner().invoke(cli, ["judge", str(_input(tmp_path, 4)), "-o", str(out),
                                       "--judge", f"openai:longer@{server.url}",
                                       "--min-margin", "0.5"])
        assert res.exit_code == 0, res.output
        data = pl.read_parquet(out / "data.parquet")
        assert data.height == 4 and set(data["kind"]) == {"preference"}
        assert all(c[0]["content"].startswith("A much longer") for c in data["chosen"])
        assert data["chosen_score"].to_list() == [1.0] * 4
        for meta in data["meta"].to_list():
            pair = json.loads(meta)["pair"]
            assert pair["source"] == "judge" and pair["template_version"] == "judge-v2"
            assert pair["judges"][0]["model"] == "longer"
        res = CliRunner().invoke(cli, ["export", str(out), "-o", str(tmp_path / "x"),
                                       "--target", "trl-dpo", "--test-size", "1"])
        assert res.exit_code == 0, res.output
        card = (tmp_path / "x" / "README.md").read_text()
        assert "| judge longer (template judge-v2) | 4 |" in card
        # two candidates give one pair either way: --pairs all makes the same pairs
        res = CliRunner().invoke(cli, ["judge", str(_input(tmp_path, 4)), "-o",
                                       str(tmp_path / "all"), "--judge",
                                       f"openai:longer@{server.url}", "--pairs", "all"])
        assert res.exit_code == 0, res.output
        assert pl.read_parquet(tmp_path / "all" / "data.parquet").select(
            "id", "chosen", "rejected").equals(data.select("id", "chosen", "rejected"))
    finally:
        server.close()
