import json
from pathlib import Path

import polars as pl
import pytest

from curate.errors import AccountingError, CurateError, InputError
from curate.recipe import parse_recipe
from curate.runner import run_recipe
from curate.stages.base import Stage
from curate.stages.marks import apply_marks, finish_marks, join_marks
from curate.stages.registry import STAGES


def _sft(q: str, a: str) -> dict:
    return {"instruction": q, "input": "", "output": a}


ROWS = [
    _sft("What is 2+2?", "2+2 equals 4."),
    _sft("what is 2+2?", "2+2 EQUALS 4."),          # duplicate after normalisation
    _sft("Name a primary colour.", "Red is a primary colour."),
    _sft("Say something.", "As an AI language model, I cannot do that."),  # refusal
    _sft("Give me a fact.", "Water boils at 100 degrees Celsius at sea level."),
]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    lines = [json.dumps(r) for r in ROWS]
    lines.insert(2, '{"instruction": "broken", "output": ')     # line 3: invalid JSON
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _recipe(path: Path, **extra) -> dict:
    return {"name": "t", "input": {"path": str(path)}, "on_error": "skip",
            "stages": [{"use": "dedup.exact"}, {"use": "quality.rules"}], **extra}


def test_every_row_is_accounted_for(corpus, tmp_path):
    out = tmp_path / "run"
    manifest = run_recipe(parse_recipe(_recipe(corpus)), out)
    assert manifest["status"] == "done"
    assert manifest["rows_in"] == 6 and manifest["rows_out"] == 3
    stages = {s["name"]: s for s in manifest["stages"]}
    assert stages["convert"]["rows_in"] == 6 and stages["convert"]["dropped"] == {"invalid_json": 1}
    assert stages["dedup.exact"]["dropped"] == {"duplicate_exact": 1}
    assert stages["quality.rules"]["dropped"] == {"refusal": 1}
    for s in manifest["stages"]:
        assert s["rows_in"] == s["rows_out"] + sum(s["dropped"].values())
        assert pl.read_parquet(out / s["rejected"]).height == sum(s["dropped"].values())
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["rows_out"] == pl.read_parquet(out / "data.parquet").height == 3
    dup = pl.read_parquet(out / "rejected" / "01_dedup.exact.parquet")
    kept = pl.read_parquet(out / "stages" / "00_convert.parquet")
    assert dup["kept_id"].to_list() == [kept["id"][0]]
    assert (out / "report.html").read_text().count("<svg") >= 1


def _keep_all(data, ctx, engine, mark=None):
    """A global stage's run that keeps every row (marks of nothing), streamed as stages do."""
    marks = pl.DataFrame(schema={"__row": pl.Int64, "drop_reason": pl.String})
    return finish_marks(data, apply_marks(data, marks, ctx, engine, mark=mark), {})


class _Lossy(Stage):
    id = "test.lossy"
    summary = "loses a row (test only)"

    def run(self, data, ctx, engine):
        def lose_last(batch, marks):  # a row gone without a reason
            return join_marks(batch, marks).head(batch.height - 1)
        return _keep_all(data, ctx, engine, mark=lose_last)


def test_a_stage_that_loses_rows_stops_the_run(corpus, tmp_path, monkeypatch):
    monkeypatch.setitem(STAGES, "test.lossy", _Lossy)
    recipe = parse_recipe({**_recipe(corpus), "stages": [{"use": "test.lossy"}]})
    with pytest.raises(AccountingError, match="stage test.lossy: 5 rows in, but 4 kept"):
        run_recipe(recipe, tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["stages"][-1]["status"] == "failed"


class _Flaky(Stage):
    """Fails while the flag file exists, like a run killed half way through."""

    id = "test.flaky"
    flag: Path | None = None
    calls = 0

    def run(self, data, ctx, engine):
        type(self).calls += 1
        if self.flag is not None and self.flag.exists():
            raise KeyboardInterrupt
        return _keep_all(data, ctx, engine)


def test_resume_after_an_interrupted_stage(corpus, tmp_path, monkeypatch):
    monkeypatch.setitem(STAGES, "test.flaky", _Flaky)
    _Flaky.flag = tmp_path / "fail"
    _Flaky.flag.touch()
    recipe = parse_recipe({**_recipe(corpus), "stages": [
        {"use": "dedup.exact"}, {"use": "test.flaky"}, {"use": "quality.rules"}]})
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_recipe(recipe, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["status"] for s in manifest["stages"]] == ["done", "done", "interrupted"]
    first = (out / "stages" / "01_dedup.exact.parquet").stat().st_mtime_ns

    _Flaky.flag.unlink()
    lines = []
    manifest = run_recipe(recipe, out, resume=True, echo=lines.append)
    assert lines[0] == "resuming after 01_dedup.exact"
    assert (out / "stages" / "01_dedup.exact.parquet").stat().st_mtime_ns == first
    assert [s["status"] for s in manifest["stages"]] == ["done"] * 4
    resumed = pl.read_parquet(out / "data.parquet")
    fresh = run_recipe(recipe, tmp_path / "fresh")
    assert fresh["rows_out"] == manifest["rows_out"] == 3
    assert resumed.equals(pl.read_parquet(tmp_path / "fresh" / "data.parquet"))


def test_from_reruns_a_stage_with_a_new_threshold(corpus, tmp_path):
    out = tmp_path / "run"
    run_recipe(parse_recipe(_recipe(corpus)), out)
    changed = _recipe(corpus, stages=[{"use": "dedup.exact"},
                                      {"use": "quality.rules", "with": {"drop_refusals": False}}])
    lines = []
    manifest = run_recipe(parse_recipe(changed), out, from_stage="quality.rules", echo=lines.append)
    assert lines[0] == "resuming after 01_dedup.exact"
    assert manifest["rows_out"] == 4
    assert manifest["stages"][2]["dropped"] == {}


def test_from_without_a_checkpoint_is_a_clear_error(corpus, tmp_path):
    with pytest.raises(CurateError) as exc:
        run_recipe(parse_recipe(_recipe(corpus)), tmp_path / "new", from_stage="quality.rules")
    assert str(exc.value) == (
        f"--from quality.rules: the checkpoint of the stage before it (01_dedup.exact) in "
        f"{tmp_path / 'new'} is not there; run with --resume instead of --from: it reruns "
        "from 00_convert, the first stage without a valid checkpoint")
    with pytest.raises(CurateError, match="--from 'nope': no such stage"):
        run_recipe(parse_recipe(_recipe(corpus)), tmp_path / "new", from_stage="nope")


def test_from_after_an_earlier_stage_changed_points_to_resume(corpus, tmp_path):
    out = tmp_path / "run"
    run_recipe(parse_recipe(_recipe(corpus)), out)
    stages = [{"use": "dedup.exact", "with": {"on": "prompt"}}, {"use": "quality.rules"}]
    changed = parse_recipe(_recipe(corpus, stages=stages))
    with pytest.raises(CurateError) as exc:
        run_recipe(changed, out, from_stage="quality.rules")
    assert str(exc.value) == (
        f"--from quality.rules: the checkpoint of the stage before it (01_dedup.exact) in {out} "
        "is out of date (the recipe or the input changed since it was made); run with --resume "
        "instead of --from: it reruns from 01_dedup.exact, the first stage without a valid "
        "checkpoint")
    lines = []
    run_recipe(changed, out, resume=True, echo=lines.append)  # what the message says works
    assert lines[0] == "resuming after 00_convert"


def test_until_and_limit(corpus, tmp_path):
    recipe = parse_recipe(_recipe(corpus, export=[{"target": "trl-sft", "test_size": 1}]))
    manifest = run_recipe(recipe, tmp_path / "run", until="dedup.exact", limit=3)
    assert manifest["status"] == "partial" and manifest["exports"] == []
    assert [s["name"] for s in manifest["stages"]] == ["convert", "dedup.exact"]
    assert manifest["rows_in"] == 3
    assert not (tmp_path / "run" / "export").exists()


def test_on_error_raise_names_file_and_line(corpus, tmp_path):
    recipe = parse_recipe({**_recipe(corpus), "on_error": "raise"})
    with pytest.raises(InputError) as info:
        run_recipe(recipe, tmp_path / "run")
    assert str(info.value).startswith(f"{corpus}:3: ")


def test_a_saved_hf_dataset_is_an_input_with_a_folder_hash(tmp_path):
    import datasets

    datasets.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "hf"))
    recipe = parse_recipe({"name": "hf", "input": {"path": str(tmp_path / "hf")},
                           "stages": [{"use": "dedup.exact"}]})
    manifest = run_recipe(recipe, tmp_path / "run")
    assert manifest["rows_in"] == 5 and manifest["rows_out"] == 4
    assert len(manifest["inputs"]) == 1 and len(manifest["inputs"][0]["sha256"]) == 64


class _RunWatcher(Stage):
    """Keeps every row; its finish_run step reports what the whole run removed."""

    id = "test.run-watcher"
    seen: list = []

    def run(self, data, ctx, engine):
        return _keep_all(data, ctx, engine)

    def finish_run(self, run):
        removed = run.removed()
        type(self).seen.append((run.first_input().height, run.output().height,
                                removed.sort("stage")["stage"].to_list()))
        return {"removed": removed.height}


def test_a_finish_run_step_sees_the_whole_run_after_its_last_stage(corpus, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setitem(STAGES, "test.run-watcher", _RunWatcher)
    monkeypatch.setattr(_RunWatcher, "seen", [])
    recipe = parse_recipe({**_recipe(corpus), "stages": [
        {"use": "test.run-watcher"}, {"use": "dedup.exact"}, {"use": "quality.rules"}]})
    manifest = run_recipe(recipe, tmp_path / "run")
    # 5 records entered the first stage; stages after the watcher removed a copy and a refusal
    assert _RunWatcher.seen == [(5, 3, ["dedup.exact", "quality.rules"])]
    assert manifest["stages"][1]["stats"] == {"run": {"removed": 2}}
    saved = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert saved["stages"][1]["stats"] == {"run": {"removed": 2}}
    run_recipe(recipe, tmp_path / "run", resume=True)    # nothing to rerun: it looks again
    assert len(_RunWatcher.seen) == 2
    run_recipe(recipe, tmp_path / "run2", until="test.run-watcher")
    assert _RunWatcher.seen[-1] == (5, 5, [])
