"""Stages defined here, outside the package, run on both engines with no engine change (a local
Ray with 2 CPUs): one of each shape, each only declaring itself and writing its own steps."""

from __future__ import annotations

import importlib

import polars as pl
import pytest
from click.testing import CliRunner
from pydantic import Field

from curate.engines import get_engine
from curate.messages import response_messages
from curate.stages.base import ROW, ModelScorer, RowScorer, StageContext, StageOptions
from curate.stages.keyed import KeyedGrouping
from curate.stages.marks import apply_marks, finish_marks
from curate.stages.registry import stage_class

from .test_ray import generated


def reply() -> pl.Expr:
    return response_messages().list.eval(pl.element().struct.field("content")) \
        .list.join(" ").fill_null("")


class ShoutingOptions(StageOptions):
    max_caps: float | None = Field(0.5, ge=0, le=1)
    """Drop replies whose share of upper-case letters is above: reason ``shouting``."""


class Shouting(RowScorer):
    """The module docs' example of :mod:`curate.stages.base`."""

    id = "test.shouting"
    Options = ShoutingOptions
    summary = "Drop replies written in capitals."
    writes = ("caps_ratio",)
    command, cli_name = "filter", "shouting"

    def score(self, batch, ctx):
        text = reply()
        letters = text.str.count_matches(r"\p{L}")
        caps = text.str.count_matches(r"\p{Lu}")
        return batch.with_columns((caps / letters).alias("caps_ratio"))

    def checks(self, columns):
        t = self.options.max_caps
        return [] if t is None else [("shouting", pl.col("caps_ratio") > t)]


class WordModel(ModelScorer):
    """A "model" (a word list built once per copy of the stage) that counts known words."""

    id = "test.word-model"
    writes = ("known_words",)
    batch_size = 40

    def __init__(self, options=None):
        super().__init__(options)
        self.model, self.loads, self.texts = None, 0, 0

    def score(self, batch, ctx):
        if self.model is None:
            self.model, self.loads = {f"w{i}" for i in range(0, 400, 2)}, self.loads + 1
        self.texts += batch.height
        known = reply().str.split(" ").list.eval(pl.element().is_in(list(self.model))).list.sum()
        return batch.with_columns(known.cast(pl.Int64).alias("known_words"))

    def checks(self, columns):
        return [("few_known", pl.col("known_words") < 17)]

    def worker_report(self):
        return {"loads": self.loads, "texts": self.texts}

    def absorb_reports(self, reports):
        self.loads += sum(r["after"]["loads"] - r["before"]["loads"] for r in reports)
        self.texts += sum(r["after"]["texts"] - r["before"]["texts"] for r in reports)

    def stats(self, scored, kept, ctx):
        return {"texts": self.texts}


class SameLength(KeyedGrouping):
    """Keeps the first record of each reply length (in words)."""

    id = "test.same-length"
    key = ("words",)

    def sign(self, batch, ctx):
        return batch.select(ROW, reply().str.split(" ").list.len().alias("words"))

    def group(self, part):
        return part.group_by("words").agg(pl.col(ROW).min().alias("first"), pl.len().alias("n"))

    def finish(self, data, grouped, ctx, engine):
        gone = pl.int_range(data.source.height, dtype=pl.Int64, eager=True).alias(ROW).to_frame() \
            .filter(~pl.col(ROW).is_in(grouped["first"].implode()))
        marks = gone.with_columns(pl.lit("same_length").alias("drop_reason"))
        return finish_marks(data, apply_marks(data, marks, ctx, engine),
                            {"lengths": grouped.height, "largest": int(grouped["n"].max())})


def shouting_corpus() -> pl.DataFrame:
    df = generated(300)
    return df.with_columns(pl.when(pl.int_range(pl.len()) % 7 == 0)
                           .then(pl.col("messages").list.eval(pl.struct(
                               pl.element().struct.field("role"),
                               pl.element().struct.field("content").str.to_uppercase())))
                           .otherwise(pl.col("messages")).alias("messages"))


@pytest.mark.parametrize("stage,how", [
    (Shouting(), "ray: tasks (1 node)"),
    (WordModel(), "ray: actor pool (1 node)"),
    (SameLength(), "ray: tasks (1 node)")])
def test_a_stage_defined_outside_the_package_runs_on_both_engines(ray_local, stage, how):
    df = shouting_corpus()
    ctx = StageContext(name=stage.id)
    local = get_engine("local").apply(type(stage)(), df, ctx)
    ray = get_engine("ray").apply(stage, df, ctx)
    assert ray.kept.equals(local.kept) and ray.rejected.equals(local.rejected)
    assert {k: v for k, v in ray.stats.items() if k != "engine"} == local.stats
    assert ray.stats["engine"] == how
    assert 0 < ray.rejected.height < df.height  # each test stage drops some, keeps some
    assert stage_class(stage.id) is type(stage)  # registered by being defined


def test_model_scorer_loads_once_per_worker_and_reports(ray_local):
    stage = WordModel()
    res = get_engine("ray").apply(stage, shouting_corpus(), StageContext(name="m"))
    assert res.stats["texts"] == 300  # every row scored once, by the workers
    assert 1 <= stage.loads <= 2  # one model per actor (2 CPUs), not one per block


def test_a_new_filter_stage_gets_its_flags(tmp_path):
    """`curate filter` builds its flags from the registry: --shouting-max-caps appears with
    the field's docstring and default, and giving it runs the stage."""
    import json

    import curate.cli.filter as module

    module = importlib.reload(module)  # its flags as of now, with this file's stages
    runner = CliRunner()
    help_text = " ".join(runner.invoke(module.filter_, ["--help"]).output.split())
    assert ("--shouting-max-caps FLOAT RANGE|NONE Drop replies whose share of upper-case "
            "letters is above: reason shouting. [default: 0.5] ('none' turns it off)") \
        in help_text
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"instruction": "Greet me.", "input": "", "output": o})
                            + "\n" for o in ("Hello there.", "HELLO THERE!", "Hi there, FRIEND.")))
    result = runner.invoke(module.filter_, [str(path), "-o", str(tmp_path / "f"),
                                            "--shouting-max-caps", "0.6"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:3] == [
        "01_quality.rules               3 -> 3",
        "02_test.shouting               3 -> 2       dropped shouting: 1"]


@pytest.fixture(scope="module", autouse=True)
def _forget_test_stages():
    """This file's stages leave the registry (and `curate filter`) with the module."""
    yield
    import curate.cli.filter
    import curate.stages.registry as registry

    for test_id in ("test.shouting", "test.word-model", "test.same-length"):
        registry.STAGES.pop(test_id, None)
    importlib.reload(curate.cli.filter)
