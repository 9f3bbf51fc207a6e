"""curate dedup --against NAME=PATH and --prefer: a v1 -> v2 release on the command line."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from curate.cli import cli
from curate.records import records_to_frame

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
         "rho sigma tau upsilon phi chi psi omega").split()


def _reply(i: int) -> str:
    rng = random.Random(i)
    return " ".join(rng.choice(WORDS) + str(rng.randrange(50)) for _ in range(100))


def _row(i: int, reply: str | None = None, dataset: str | None = None) -> dict:
    row = {"id": f"r{i}", "kind": "sft", "source": "s", "meta": "{}",
           "messages": [{"role": "user", "content": f"Question {i}"},
                        {"role": "assistant", "content": reply or _reply(i)}]}
    if dataset is not None:
        row["dataset"] = dataset
    return row


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_against_a_release_made_by_dedup(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    v1_in = _jsonl(tmp_path / "v1.jsonl", [_row(i) for i in range(10)])
    done = runner.invoke(cli, ["dedup", str(v1_in), "-o", str(tmp_path / "v1")])
    assert done.exit_code == 0, done.output
    v1 = tmp_path / "v1"
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in v1.rglob("*") if p.is_file()}

    words = _reply(3).split()
    words[20] = "changed"
    v2_in = _jsonl(tmp_path / "v2.jsonl", [_row(3), {**_row(3, " ".join(words)), "id": "r50"}, _row(60),
                                          {**_row(60), "id": "r61"}])
    for method in ("exact", "near"):
        out = tmp_path / f"v2-{method}"
        done = runner.invoke(cli, ["dedup", str(v2_in), "-o", str(out), "--method", method,
                                   "--against", f"v1={v1}"])
        assert done.exit_code == 0, done.output
        rejected = pl.read_parquet(out / "rejected" / f"01_dedup.{method}.parquet").sort("id")
        found = dict(zip(rejected["id"], rejected["drop_reason"]))
        v1_id = pl.read_parquet(v1 / "data.parquet").filter(
            pl.col("messages").list.first().struct.field("content") == "Question 3")["id"][0]
        expected = {"r3": "duplicate_of_reference", "r61": f"duplicate_{method}"}
        if method == "near":
            expected["r50"] = "duplicate_of_reference"
        assert found == expected
        assert rejected.filter(pl.col("id") == "r3")["duplicate_of"].to_list() == [f"v1:{v1_id}"]
        stage = json.loads((out / "manifest.json").read_text())["stages"][1]
        assert stage["dropped"]["duplicate_of_reference"] == len(expected) - 1
        assert stage["stats"]["against"]["v1"]["built"] is True
    # v1's exported split is the same release: the same records found
    done = runner.invoke(cli, ["export", str(v1), "-o", str(tmp_path / "release"),
                               "--target", "trl-sft"])
    assert done.exit_code == 0, done.output
    out = tmp_path / "v2-export"
    done = runner.invoke(cli, ["dedup", str(v2_in), "-o", str(out), "--method", "near",
                               "--against", f"v1={tmp_path / 'release'}"])
    assert done.exit_code == 0, done.output
    rejected = pl.read_parquet(out / "rejected" / "01_dedup.near.parquet").sort("id")
    assert dict(zip(rejected["id"], rejected["drop_reason"])) == expected
    stage = json.loads((out / "manifest.json").read_text())["stages"][1]
    assert stage["stats"]["against"]["v1"]["rows"] == 10  # train and test, not both formats
    again = runner.invoke(cli, ["dedup", str(v2_in), "-o", str(tmp_path / "again"),
                                "--method", "near", "--against", f"v1={v1}"])
    assert again.exit_code == 0, again.output
    stage = json.loads((tmp_path / "again" / "manifest.json").read_text())["stages"][1]
    assert stage["stats"]["against"]["v1"]["built"] is False
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in v1.rglob("*") if p.is_file()} == before


def test_prefer_and_usage_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    src = tmp_path / "records.parquet"
    rows = [{**_row(9), "id": f"r{i}", "meta": {}} for i in (1, 2, 3)]
    records_to_frame(rows).with_columns(
        pl.Series("dataset", ["public", None, "ours"])).write_parquet(src)
    done = runner.invoke(cli, ["dedup", str(src), "-o", str(tmp_path / "o"),
                               "--prefer", "ours,public"])
    assert done.exit_code == 0, done.output
    assert pl.read_parquet(tmp_path / "o" / "data.parquet")["dataset"].to_list() == ["ours"]

    bad = runner.invoke(cli, ["dedup", str(src), "-o", str(tmp_path / "x"),
                              "--against", "v1"])
    assert bad.exit_code == 2 and "'v1': expected KEY=VALUE" in bad.output
    bad = runner.invoke(cli, ["dedup", str(src), "-o", str(tmp_path / "x"),
                              "--against", f"v1={tmp_path / 'missing'}"])
    assert bad.exit_code == 2 and "does not exist" in bad.output
    bad = runner.invoke(cli, ["dedup", str(src), "-o", str(tmp_path / "x"), "--prefer", ","])
    assert bad.exit_code == 2 and "--prefer: expected input names" in bad.output
