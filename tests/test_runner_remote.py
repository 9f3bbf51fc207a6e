"""Runs that read their input from and write their run folder to fsspec URLs (the real
in-process ``memory://`` file system): the same files as a local run, resumable."""

import json
from pathlib import Path

import fsspec
import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from curate.cli import cli
from curate.errors import CurateError
from curate.recipe import parse_recipe
from curate.runner import run_recipe
from curate.stages.registry import STAGES

from .io.test_remote import memory_folder
from .test_runner import ROWS, _Flaky

_memory_root = pytest.fixture(memory_folder, name="memory_root")

MEM = fsspec.filesystem("memory")
PARQUET_ROWS = [ROWS[0], {"instruction": "Name a planet.", "input": "", "output": "Mars is a planet."}]


@pytest.fixture(autouse=True)
def staging(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CURATE_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "runs"


def _inputs(folder: Path) -> None:
    """A jsonl file with a broken line 3 and a parquet file, written in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r) for r in ROWS]
    lines.insert(2, '{"instruction": "broken", "output": ')
    (folder / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pl.DataFrame(PARQUET_ROWS).write_parquet(folder / "b.parquet")


def _recipe(path: str, **extra) -> dict:
    return {"name": "t", "input": {"path": path}, "on_error": "skip",
            "stages": [{"use": "dedup.exact"}, {"use": "quality.rules"}],
            "export": [{"target": "trl-sft", "test_size": 1}], **extra}


def _remote_files(path: str) -> dict[str, bytes]:
    return {f[len(path) + 1:]: MEM.cat_file(f) for f in MEM.find(path)}


def _local_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file()}


def _frame(data: bytes) -> pl.DataFrame:
    import io

    return pl.read_parquet(io.BytesIO(data))


def test_remote_run_has_the_files_of_a_local_run(memory_root, tmp_path, staging):
    url, path = memory_root
    _inputs(tmp_path / "in")
    MEM.put(str(tmp_path / "in"), f"{path}/in", recursive=True)
    local = run_recipe(parse_recipe(_recipe(str(tmp_path / "in"))), tmp_path / "run")
    lines = []
    remote = run_recipe(parse_recipe(_recipe(f"{url}/in")), f"{url}/run", echo=lines.append)
    assert lines[0].startswith(f"run folder {url}/run (staged in {staging}")
    assert not any(staging.iterdir())  # the staging folder is gone once all is at the URL

    mine, theirs = _remote_files(f"{path}/run"), _local_files(tmp_path / "run")
    assert sorted(mine) == sorted(theirs)
    part = "part-00000.parquet"  # every parquet path of a run is a folder of parts
    bad = f"rejected/00_convert.parquet/{part}"
    assert {f"data.parquet/{part}", "manifest.json", "report.html",
            f"stages/02_quality.rules.parquet/{part}", bad,
            "export/trl-sft/README.md"} <= set(mine)
    for rel in mine:
        if rel.endswith((".parquet", ".jsonl")) and rel != bad:
            assert mine[rel] == theirs[rel], rel  # the very same bytes
    assert _frame(mine[f"data.parquet/{part}"]).height == 4
    bad_remote = _frame(mine[bad])
    bad_local = _frame(theirs[bad])
    assert bad_remote["file"].to_list() == [f"{url}/in/a.jsonl"]
    assert bad_local["file"].to_list() == [str(tmp_path / "in" / "a.jsonl")]
    assert bad_remote.drop("file").equals(bad_local.drop("file"))
    assert bad_remote["line"].to_list() == [3]

    manifest = json.loads(mine["manifest.json"])
    assert manifest == remote
    assert [s["sha256"] for s in manifest["inputs"]] == [s["sha256"] for s in local["inputs"]]
    assert [s["path"] for s in manifest["inputs"]] == [f"{url}/in/a.jsonl", f"{url}/in/b.parquet"]
    keys = ("name", "rows_in", "rows_out", "dropped", "fingerprint")
    assert [{k: s[k] for k in keys} for s in manifest["stages"]] == [
        {k: s[k] for k in keys} for s in local["stages"]]
    assert (manifest["rows_in"], manifest["rows_out"]) == (local["rows_in"], local["rows_out"]) == (8, 4)
    assert manifest["exports"] == local["exports"]


def test_credentials_never_reach_the_run_folder(memory_root, tmp_path):
    url, path = memory_root
    # memory:// keeps "user:pw@" and the query in its paths, so the file sits there verbatim
    secret_url = f"memory://user:s3cret@{path.lstrip('/')}/a.jsonl?token=t0ken"
    MEM.pipe_file(f"/user:s3cret@{path.lstrip('/')}/a.jsonl?token=t0ken",
                  (json.dumps(ROWS[0]) + "\n").encode())
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({**_recipe(secret_url), "export": []}))
    result = CliRunner().invoke(cli, ["run", str(recipe), "-o", f"{url}/run"])
    assert result.exit_code == 0, result.output
    assert f"see {url}/run/report.html" in result.output
    files = _remote_files(f"{path}/run")
    assert files and not [rel for rel, data in files.items()
                          if b"s3cret" in data or b"t0ken" in data]
    manifest = json.loads(files["manifest.json"])
    assert manifest["inputs"][0]["path"] == f"memory://{path.lstrip('/')}/a.jsonl"
    assert manifest["recipe"]["input"]["path"] == f"memory://{path.lstrip('/')}/a.jsonl"
    assert "s3cret" not in result.output and "t0ken" not in result.output


def test_bad_line_and_missing_input_at_urls(memory_root, tmp_path, staging):
    url, path = memory_root
    _inputs(tmp_path / "in")
    MEM.put_file(str(tmp_path / "in" / "a.jsonl"), f"{path}/in/a.jsonl")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({**_recipe(f"{url}/in/a.jsonl"), "on_error": "raise"}))
    result = CliRunner().invoke(cli, ["run", str(recipe), "-o", f"{url}/run"])
    assert result.exit_code == 1
    assert f"Error: {url}/in/a.jsonl:3: invalid JSON" in result.output
    manifest = json.loads(MEM.cat_file(f"{path}/run/manifest.json"))  # the failure is mirrored
    assert manifest["status"] == "failed" and manifest["stages"][0]["status"] == "failed"
    assert not any(staging.iterdir())

    result = CliRunner().invoke(cli, ["dedup", f"{url}/in/nope.jsonl", "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert f"Error: {url}/in/nope.jsonl: no such file or folder" in result.output


def test_resume_from_a_url_reuses_its_checkpoints(memory_root, tmp_path, monkeypatch,
                                                 staging):
    url, path = memory_root
    _inputs(tmp_path / "in")
    MEM.put(str(tmp_path / "in"), f"{path}/in", recursive=True)
    monkeypatch.setitem(STAGES, "test.flaky", _Flaky)
    _Flaky.flag = tmp_path / "fail"
    _Flaky.flag.touch()
    spec = _recipe(f"{url}/in", stages=[{"use": "dedup.exact"}, {"use": "test.flaky"},
                                        {"use": "quality.rules"}])
    with pytest.raises(KeyboardInterrupt):
        run_recipe(parse_recipe(spec), f"{url}/run")
    manifest = json.loads(MEM.cat_file(f"{path}/run/manifest.json"))
    assert [s["status"] for s in manifest["stages"]] == ["done", "done", "interrupted"]
    checkpoint = f"{path}/run/stages/01_dedup.exact.parquet/part-00000.parquet"
    created = MEM.info(checkpoint)["created"]

    assert not any(staging.iterdir())  # all is at the URL: resuming pulls it from there
    _Flaky.flag.unlink()
    lines = []
    manifest = run_recipe(parse_recipe(spec), f"{url}/run", resume=True, echo=lines.append)
    assert lines[1] == "resuming after 01_dedup.exact"
    assert MEM.info(checkpoint)["created"] == created  # reused, not written again
    assert [s["status"] for s in manifest["stages"]] == ["done"] * 4
    fresh = run_recipe(parse_recipe(spec), tmp_path / "fresh")
    assert _frame(MEM.cat_file(f"{path}/run/data.parquet/part-00000.parquet")).equals(
        pl.read_parquet(tmp_path / "fresh" / "data.parquet"))
    assert manifest["rows_out"] == fresh["rows_out"] == 4

    changed = _recipe(f"{url}/in", stages=[
        {"use": "dedup.exact"}, {"use": "test.flaky"},
        {"use": "quality.rules", "with": {"drop_refusals": False}}])
    lines = []
    manifest = run_recipe(parse_recipe(changed), f"{url}/run", from_stage="quality.rules",
                          echo=lines.append)
    assert lines[1] == "resuming after 02_test.flaky" and manifest["rows_out"] == 5
    assert json.loads(MEM.cat_file(f"{path}/run/manifest.json"))["rows_out"] == 5

    with pytest.raises(CurateError, match=rf"\(01_dedup.exact\) in {url}/new is not there; run with --resume"):
        run_recipe(parse_recipe(spec), f"{url}/new", from_stage="test.flaky")
