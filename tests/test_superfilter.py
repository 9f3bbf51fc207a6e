"""pipelines/superfilter.yaml: validated as shipped, and run on the first records of the demo's
alpaca file with the packaged model (what the small model prefers is not asserted: the
accounting, the threshold and the score-first order are)."""

from pathlib import Path

import polars as pl
from click.testing import CliRunner

from curate.cli import cli
from curate.recipe import load_recipe
from curate.runner import run_recipe

from .llm.packaged import need_packaged_model

REPO = Path(__file__).resolve().parents[1]
RECIPE = "pipelines/superfilter.yaml"


def test_superfilter_recipe_validates(monkeypatch):
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(cli, ["validate", RECIPE])
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"{RECIPE}: ok (convert -> dedup.exact -> quality.rules -> "
                             "quality.ifd -> select.diverse; exports: trl-sft)\n")


def test_superfilter_recipe_runs(tmp_path, monkeypatch):
    need_packaged_model()
    monkeypatch.chdir(REPO)
    out = tmp_path / "sf"
    manifest = run_recipe(load_recipe(RECIPE), out, recipe_file=REPO / RECIPE, limit=20,
                          report=False)
    names = [s["name"] for s in manifest["stages"]]
    assert names == ["convert", "dedup.exact", "quality.rules", "quality.ifd", "select.diverse"]
    for stage in manifest["stages"]:
        assert stage["rows_in"] == stage["rows_out"] + sum(stage["dropped"].values())
    ifd, select = manifest["stages"][3:]
    assert set(ifd["dropped"]) <= {"ifd_high"}
    assert ifd["stats"]["model"]["model"] == "smollm2-135m-instruct"
    scored = pl.concat([pl.read_parquet(out / ifd["checkpoint"]),
                        pl.read_parquet(out / ifd["rejected"]).drop("drop_reason")])
    assert scored["ifd"].null_count() == 0 and scored.height == ifd["rows_in"]
    data = pl.read_parquet(out / "data.parquet").sort("select_rank")
    assert data.height == select["rows_out"] == round(0.2 * ifd["rows_out"])
    assert (data["ifd"] <= 1.0).all()
    assert data["ifd"][0] == pl.read_parquet(out / ifd["checkpoint"])["ifd"].max()
    assert (out / "export" / "trl-sft" / "README.md").is_file()
