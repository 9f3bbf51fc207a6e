"""`label push --from-judge` on a run `curate judge` really wrote (scripted judges on a real
HTTP server, tests/judge/judges.py), not a hand-built one: the hard cases it picks and each
judge's verdict as the annotator will read it."""

import json

import polars as pl
from click.testing import CliRunner

from curate.argilla.judged import combined_verdict, hard_cases, judge_verdicts
from curate.cli import cli

from ..judge.judges import judge_server


def _judge(tmp_path, *models):
    path = tmp_path / "cands.jsonl"
    path.write_text("".join(json.dumps({
        "messages": [{"role": "user", "content": f"Explain topic {i}."},
                     {"role": "assistant", "content": f"Short {i}."}],
        "candidates": [f"Short {i}.", f"A much longer answer about topic {i}, in detail."]})
        + "\n" for i in range(3)))
    server = judge_server()
    try:
        out = tmp_path / "judged"
        args = ["judge", str(path), "-o", str(out)]
        for m in models:
            args += ["--judge", f"openai:{m}@{server.url}"]
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, res.output
        return out
    finally:
        server.close()


def test_a_position_biased_judges_run_sends_every_item_to_people(tmp_path):
    run = _judge(tmp_path, "first")
    assert pl.read_parquet(run / "data.parquet").height == 0
    items = hard_cases(run)
    assert items.height == 3
    assert set(items["judge_hard_reason"]) == {"position_inconsistent"}
    for row in items.iter_rows(named=True):
        verdicts = judge_verdicts(row, *row["judge_pair"])
        # the judge picked whichever candidate was shown first: one order each way
        assert [v["verdict"] for v in verdicts.values()] == ["tie"]
        assert sorted(next(iter(verdicts.values()))["orders"]) == ["chosen", "rejected"]
        assert combined_verdict(verdicts) == ("tie", 0.0)


def test_judges_that_disagree_send_their_pairs(tmp_path):
    run = _judge(tmp_path, "longer", "shorter")
    items = hard_cases(run)
    # each judge is consistent but they disagree: every pair is a tie of the two, no pair
    assert pl.read_parquet(run / "data.parquet").height == 0
    assert items.height == 3 and set(items["judge_hard_reason"]) == {"tie"}
    row = items.row(0, named=True)
    verdicts = judge_verdicts(row, *row["judge_pair"])
    assert sorted(v["verdict"] for v in verdicts.values()) == ["chosen", "rejected"]
