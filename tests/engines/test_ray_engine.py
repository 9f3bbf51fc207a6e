"""The Ray engine's primitives (a local Ray with 2 CPUs): tasks and an actor pool that read
their pieces from storage and write their outputs there, results in item order, the workers'
errors raised as themselves; both engines implement the Engine protocol."""

from __future__ import annotations

import inspect
import os
from functools import partial
from pathlib import Path

import polars as pl
import pytest

from curate.engines import get_engine
from curate.engines.local import LocalEngine
from curate.engines.protocol import Engine
from curate.errors import CurateError
from curate.io.parts import PartWriter, Parts, part_name
from curate.stages.base import ModelScorer, StageContext, StageOptions

from .test_ray import generated


def test_both_engines_implement_the_protocol():
    from curate.engines.ray import RayEngine

    for engine in (LocalEngine(), RayEngine()):
        assert isinstance(engine, Engine)
        for name, member in vars(Engine).items():
            if name.startswith("_") or not callable(member):
                continue
            want = inspect.signature(member).parameters
            have = inspect.signature(getattr(type(engine), name)).parameters
            assert [(p.name, p.kind) for p in want.values()] == \
                [(p.name, p.kind) for p in have.values()], (type(engine).__name__, name)


def convert_file(path: str, *, out: str) -> dict:
    """What a conversion task does: read one input file, write its records as its part."""
    df = pl.read_parquet(path)
    index = int(Path(path).stem.split("-")[1])
    PartWriter(out).write(index, df.with_columns(pl.col("text").str.to_uppercase()))
    return {"file": Path(path).name, "rows": df.height, "pid": os.getpid()}


def test_map_runs_module_functions_that_write_parts(ray_local, tmp_path):
    """The runner's convert on Ray: ``engine.map(convert_file_task, files)``, one task per
    input file, each writing its part; only counts come back, in the files' order."""
    files = []
    for i in range(7):
        path = tmp_path / "in" / f"shard-{i}.parquet"
        path.parent.mkdir(exist_ok=True)
        pl.DataFrame({"text": [f"row {i} {j}" for j in range(i + 1)]}).write_parquet(path)
        files.append(str(path))
    out = tmp_path / "out"
    engine = get_engine("ray")
    results = engine.map(partial(convert_file, out=str(out)), files, desc="convert",
                         sizes=[i + 1 for i in range(7)])
    assert [r["file"] for r in results] == [f"shard-{i}.parquet" for i in range(7)]
    assert [r["rows"] for r in results] == list(range(1, 8))
    assert os.getpid() not in {r["pid"] for r in results}  # workers did the work
    parts = PartWriter(out).finish()
    assert [f.name for f in parts.files] == [part_name(i) for i in range(7)]
    assert parts.read()["text"].to_list() == [f"ROW {i} {j}" for i in range(7)
                                              for j in range(i + 1)]
    assert engine.map(len, [], desc="nothing") == []


def fail_on(item: int, *, bad: int) -> int:
    if item == bad:
        raise CurateError(f"item {item}: cannot be read")
    return item * item


def test_a_task_error_is_raised_as_itself(ray_local):
    engine = get_engine("ray")
    assert engine.map(partial(fail_on, bad=-1), list(range(10)), desc="sq") == \
        [i * i for i in range(10)]
    with pytest.raises(CurateError, match=r"^item 6: cannot be read$"):
        engine.map(partial(fail_on, bad=6), list(range(10)), desc="sq")


class ClosingOptions(StageOptions):
    folder: str = ""
    fail_on: str = ""


class Closing(ModelScorer):
    """A model stage that counts the rows each copy scored and says where it was closed."""

    id = "test.closing"
    Options = ClosingOptions
    writes = ("length",)
    batch_size = 50

    def __init__(self, options=None):
        super().__init__(options)
        self.rows = 0

    def score(self, batch, ctx):
        if self.options.fail_on in batch["id"]:
            raise CurateError(f"{self.options.fail_on}: cannot be scored")
        self.rows += batch.height
        return batch.with_columns(pl.col("id").str.len_chars().alias("length"))

    def checks(self, columns):
        return [("long_id", pl.col("length") > 3)]

    def worker_report(self):
        return {"rows": self.rows}

    def absorb_reports(self, reports):
        self.rows += sum(r["after"]["rows"] - r["before"]["rows"] for r in reports)

    def close(self):
        Path(self.options.folder, f"closed-{os.getpid()}-{id(self)}").touch()


def test_model_pool_reports_and_closes_each_copy(ray_local, tmp_path):
    df = generated(330)
    stage = Closing({"folder": str(tmp_path)})
    ctx = StageContext(name="closing")
    ray = get_engine("ray").apply(stage, df, ctx)
    (tmp_path / "local").mkdir()
    local = get_engine("local").apply(Closing({"folder": str(tmp_path / "local")}), df, ctx)
    assert ray.kept.equals(local.kept) and ray.rejected.equals(local.rejected)
    assert ray.rejected.height == 230 and ray.stats["engine"] == "ray: actor pool (1 node)"
    assert stage.rows == 330  # 7 pieces scored by the actors, reported to the driver's stage
    closed = [p.name.split("-")[1] for p in tmp_path.glob("closed-*")]
    # the two actors' copies (one per CPU) and the driver's stage
    assert sorted(pid == str(os.getpid()) for pid in closed) == [False, False, True]


def test_a_model_worker_error_is_raised_as_itself(ray_local, tmp_path):
    stage = Closing({"folder": str(tmp_path), "fail_on": "g260"})
    with pytest.raises(CurateError, match=r"^g260: cannot be scored$"):
        get_engine("ray").apply(stage, generated(330), StageContext(name="closing"))


def test_row_stage_pieces_give_parts_in_order(ray_local, tmp_path):
    """A row stage on several pieces: part i of each output comes from piece i, with the
    same bytes' contents as the local engine's."""
    from curate.stages.base import StageData
    from curate.stages.registry import stage_class

    source = PartWriter(tmp_path / "in")
    df = generated(900)
    for i, start in enumerate(range(0, 900, 250)):  # parts of unequal pieces
        source.write(i, df.slice(start, 250))
    outputs = {}
    for name in ("local", "ray"):
        stage = stage_class("quality.rules")({})
        stage.batch_size = 100
        data = StageData(Parts(tmp_path / "in"), tmp_path / name / "kept",
                         tmp_path / name / "rejected", tmp_path / name / "scratch")
        outputs[name] = get_engine(name).run_stage(stage, data, StageContext(name="rules"))
    local, ray = outputs["local"], outputs["ray"]
    assert (ray.rows_in, ray.rows_out, ray.drops) == (local.rows_in, local.rows_out,
                                                      local.drops)
    assert ray.rows_in == 900 and ray.drops
    for side in ("kept", "rejected"):
        a, b = getattr(local, side).files, getattr(ray, side).files
        assert [f.name for f in b] == [f.name for f in a] == [part_name(i) for i in range(11)]
        for x, y in zip(a, b):
            assert pl.read_parquet(y).equals(pl.read_parquet(x)), y


def test_relative_paths_reach_the_workers_whole(ray_local, tmp_path, monkeypatch):
    """Workers need not share the driver's working directory (here they started in another):
    a run folder given relative to it still reaches them."""
    from curate.stages.base import StageData
    from curate.stages.registry import stage_class

    PartWriter(tmp_path / "in").write(0, generated(120))
    monkeypatch.chdir(tmp_path)
    data = StageData(Parts("in"), tmp_path / "kept", tmp_path / "rejected", tmp_path / "tmp")
    stage = stage_class("quality.rules")({})
    stage.batch_size = 50
    out = get_engine("ray").run_stage(stage, data, StageContext(name="rules"))
    assert out.rows_in == 120 and out.rows_out + sum(out.drops.values()) == 120
    assert [f.name for f in Parts(tmp_path / "kept").files] == [part_name(i) for i in range(3)]


@pytest.fixture(scope="module", autouse=True)
def _forget_test_stages():
    yield
    import curate.stages.registry as registry

    registry.STAGES.pop("test.closing", None)
