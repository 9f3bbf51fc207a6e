"""`curate filter --ifd`: the quality.ifd stage from the command line, into a run folder with
its report section and card part; then `curate sample --score-column ifd` (Superfiltering's
score-first selection) on that run."""

import json

import polars as pl
from click.testing import CliRunner

from curate.cli import cli

from ..fixtures_lm import QA

N = len(QA)


def alpaca_file(tmp_path):
    """The tiny model's QA pairs with their own answers, then with the next one's."""
    rows = list(QA) + [(QA[i][0], QA[(i + 1) % N][1]) for i in range(N)]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"instruction": q, "input": "", "output": a}) + "\n"
                            for q, a in rows))
    return str(path)


def test_filter_ifd_then_sample_by_ifd(tmp_path, tiny_lm):
    runner = CliRunner()
    out = tmp_path / "f"
    result = runner.invoke(cli, ["filter", alpaca_file(tmp_path), "-o", str(out),
                                 "--no-quality", "--ifd", "--ifd-model", str(tiny_lm),
                                 "--ifd-batch-size", "4"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    stage = manifest["stages"][1]
    dropped = stage["dropped"]["ifd_high"]
    assert result.stdout.splitlines()[1] == (f"{'01_quality.ifd':<30}{2 * N} -> "
                                             f"{2 * N - dropped:<8}dropped ifd_high: {dropped}")
    assert stage["thresholds"]["max"] == 1.05 and stage["thresholds"]["batch_size"] == 4
    assert stage["stats"]["model"]["weights"] == str(tiny_lm.resolve())
    data = pl.read_parquet(out / "data.parquet")
    rejected = pl.read_parquet(out / "rejected" / "01_quality.ifd.parquet")
    assert (data["ifd"] <= 1.05).all() and (rejected["ifd"] > 1.05).all() and dropped > 0
    # the true replies are kept; what goes is a question with another question's answer
    kept = {(m[0]["content"], m[1]["content"]) for m in data["messages"].to_list()}
    assert kept >= set(QA)
    report = (out / "report.html").read_text()
    assert "IFD (reply perplexity with / without the instruction)" in report
    assert "IFD against reply length" in report
    assert "Records dropped at these thresholds" in report
    assert report.count("<circle") == 2 * N  # every scored record in the scatter

    exported = runner.invoke(cli, ["export", str(out), "-o", str(tmp_path / "x"),
                                   "--target", "trl-sft", "--test-size", "1"])
    assert exported.exit_code == 0, exported.output
    card = (tmp_path / "x" / "README.md").read_text()
    assert "## Instruction-following difficulty" in card
    assert f"Thresholds: `max` 1.05. Removed: {dropped} as `ifd_high`." in card

    sampled = runner.invoke(cli, ["sample", str(out), "-o", str(tmp_path / "s"), "--n", "3",
                                  "--method", "deita", "--score-column", "ifd"])
    assert sampled.exit_code == 0, sampled.output
    picks = pl.read_parquet(tmp_path / "s" / "data.parquet").sort("select_rank")
    assert picks.height == 3
    assert picks["ifd"][0] == data["ifd"].max()   # score first: the hardest kept record


def test_bad_ifd_options_are_usage_errors(tmp_path):
    path = alpaca_file(tmp_path)
    result = CliRunner().invoke(cli, ["filter", path, "-o", str(tmp_path / "f"),
                                      "--ifd-min", "2", "--ifd-max", "1"])
    assert result.exit_code == 2
    assert "--ifd-min: must be below max (1.0), not 2.0" in result.output  # max as given
    result = CliRunner().invoke(cli, ["filter", path, "-o", str(tmp_path / "f"),
                                      "--ifd-model", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "expected 'smollm2-135m-instruct', a local Hugging Face causal-LM folder" \
        in result.output
    assert not (tmp_path / "f").exists()
