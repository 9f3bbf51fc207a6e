"""The Ray engine reads its input from and writes its run folder to ``file://`` URLs (a local
Ray with 2 CPUs; ``memory://`` is per process, so the URLs here are ``file://``)."""

import json

import polars as pl
import yaml
from click.testing import CliRunner

from curate.cli import cli

from ..test_runner_remote import _inputs, _recipe


def test_ray_engine_with_file_urls(ray_local, tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_HOME", str(tmp_path / "home"))
    _inputs(tmp_path / "in")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump(_recipe(f"file://{tmp_path}/in")))
    result = CliRunner().invoke(cli, ["run", str(recipe), "--engine", "ray",
                                      "-o", f"file://{tmp_path}/ray"])
    assert result.exit_code == 0, result.output
    assert f"see file://{tmp_path}/ray/report.html" in result.output
    local = CliRunner().invoke(cli, ["run", str(recipe), "-o", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output

    ray_run, local_run = tmp_path / "ray", tmp_path / "local"
    manifest = json.loads((ray_run / "manifest.json").read_text())
    assert manifest["engine"] == "ray" and manifest["status"] == "done"
    assert [s["path"] for s in manifest["inputs"]] == [f"file://{tmp_path}/in/a.jsonl",
                                                       f"file://{tmp_path}/in/b.parquet"]
    assert manifest["stages"][1]["stats"]["engine"] == "ray: tasks (1 node)"
    assert sorted(p.relative_to(ray_run) for p in ray_run.rglob("*") if p.is_file()) == sorted(
        p.relative_to(local_run) for p in local_run.rglob("*") if p.is_file())
    data = pl.read_parquet(ray_run / "data.parquet")
    assert data.height == 4 and data.equals(pl.read_parquet(local_run / "data.parquet"))
    for name in ("01_dedup.exact", "02_quality.rules"):
        assert pl.read_parquet(ray_run / "rejected" / f"{name}.parquet").equals(
            pl.read_parquet(local_run / "rejected" / f"{name}.parquet"))
