"""The Ray engine keeps exactly what the local engine keeps (a local Ray with 2 CPUs): the
same part files' contents, from tasks and actors that read their pieces from storage and write
their outputs there."""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from curate.engines import get_engine
from curate.recipe import load_recipe
from curate.runner import run_recipe
from curate.io.parts import PartWriter
from curate.stages.base import Stage, StageContext, StageOutput
from curate.stages.registry import stage_class

from ..conftest import REPO


def generated(n: int, seed: int = 0) -> pl.DataFrame:
    """SFT records with planted exact copies (other case/space), near copies (one word
    changed), refusals and too short replies."""
    from curate.records import records_to_frame

    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(400)]
    texts = [" ".join(rng.choice(vocab, 40)) for _ in range(n)]
    for i in rng.choice(n, n // 10, replace=False):
        j = int(rng.integers(n))
        words = texts[j].split()
        if i % 2:
            words[int(rng.integers(5, 35))] = "changed"
            texts[i] = " ".join(words)
        else:
            texts[i] = "  " + texts[j].upper()
    for i in rng.choice(n, n // 50, replace=False):
        texts[i] = "As an AI language model, I cannot do that. " + texts[i]
    for i in rng.choice(n, n // 50, replace=False):
        texts[i] = "ok"
    return records_to_frame([
        {"id": f"g{i}", "kind": "sft", "source": "gen",
         "messages": [{"role": "user", "content": f"question {i % 97}"},
                      {"role": "assistant", "content": t}]} for i, t in enumerate(texts)])


def test_generated_corpus_same_rows(ray_local):
    local, ray_engine = get_engine("local"), get_engine("ray")
    assert ray_engine.manifest()["ray_version"] == ray_local.__version__
    df_local = df_ray = generated(1500)
    ctx = StageContext(seed=0)
    engines = []
    small = {"batch_size": 200, "sign_batch_size": 200}  # several pieces
    for use, options in [("dedup.exact", {}), ("dedup.near", {"threshold": 0.8}),
                         ("dedup.near", {"threshold": 0.7, "keep": "longest", "on": "response"}),
                         ("quality.rules", {})]:
        a = local.apply(stage_class(use)(options), df_local, ctx)
        stage = stage_class(use)(options)
        for name, value in small.items():
            if hasattr(stage, name):
                setattr(stage, name, value)
        b = ray_engine.apply(stage, df_ray, ctx)
        assert b.kept.equals(a.kept), use
        assert b.rejected.equals(a.rejected), use
        assert {k: v for k, v in b.stats.items() if k != "engine"} == a.stats
        assert a.rejected.height > 0, use  # the corpus has something for every stage
        engines.append(b.stats["engine"])
        df_local, df_ray = a.kept, b.kept
    assert engines == ["ray: tasks (1 node)"] * 4


class FirstOnly(Stage):
    """A global step that uses none of the engine's primitives (it writes its small outputs
    itself)."""

    id = "test.first-only"

    def run(self, data, ctx, engine):
        df = data.source.read()
        PartWriter(data.kept).write(0, df.head(1))
        PartWriter(data.rejected).write(0, df.tail(df.height - 1).with_columns(
            pl.lit("rest").alias("drop_reason")))
        return StageOutput(PartWriter(data.kept).finish(), PartWriter(data.rejected).finish(),
                           df.height, 1, {"rest": df.height - 1})


def test_global_step_on_the_driver_is_said(ray_local):
    df = generated(20)
    res = get_engine("ray").apply(FirstOnly(), df, StageContext())
    assert res.kept["id"].to_list() == ["g0"]
    assert res.stats == {"engine": "ray: on the driver (no distributed part)"}


def test_demo_recipe_same_records(ray_local, tmp_path):
    recipe_file = REPO / "pipelines" / "demo.yaml"
    recipe = load_recipe(recipe_file)
    runs = {}
    for engine in ("local", "ray"):
        out = tmp_path / engine
        runs[engine] = run_recipe(recipe.model_copy(update={"engine": engine}), out,
                                  recipe_file=recipe_file, report=False)
    assert runs["ray"]["engine"] == "ray" and runs["local"]["engine"] == "local"
    assert runs["ray"]["ray_version"] == ray_local.__version__
    assert [s["engine"] for s in (st["stats"] for st in runs["ray"]["stages"][1:])] == [
        "ray: tasks (1 node)", "ray: tasks (1 node)", "ray: tasks (1 node)",
        "ray: actor pool (1 node)", "ray: tasks (1 node)"]
    for a, b in zip(runs["local"]["stages"], runs["ray"]["stages"]):
        assert (a["rows_in"], a["rows_out"], a["dropped"]) == (b["rows_in"], b["rows_out"],
                                                               b["dropped"])
        assert {k: v for k, v in b["stats"].items() if k != "engine"} == a["stats"], b["name"]
        for sub in ("checkpoint", "rejected"):
            left = pl.read_parquet(tmp_path / "local" / a[sub])
            right = pl.read_parquet(tmp_path / "ray" / b[sub])
            assert right.equals(left), b[sub]
    # the run's bias audit (safety.bias's finish_run step, scoring what earlier stages removed
    # on the run's engine) is the same
    audits = [json.loads((tmp_path / e / "bias.json").read_text()) for e in ("local", "ray")]
    assert audits[0] == audits[1] and audits[0]["scope"] == "run"
    ids = pl.read_parquet(tmp_path / "ray" / "data.parquet")["id"]
    assert ids.to_list() == pl.read_parquet(tmp_path / "local" / "data.parquet")["id"].to_list()
    assert ids.len() == 259


def test_row_and_model_stages_of_the_demo_same_parts(ray_local, tmp_path, monkeypatch):
    """The demo's row and model stages in pieces of 40 rows: every checkpoint and rejected
    folder holds the same part files with the same contents on both engines."""
    from curate.io.parts import part_files
    from curate.stages.quality import QualityRules
    from curate.stages.safety_bias import Bias
    from curate.stages.safety_toxicity import Toxicity

    for cls in (QualityRules, Toxicity, Bias):
        monkeypatch.setattr(cls, "batch_size", 40)
    recipe_file = REPO / "pipelines" / "demo.yaml"
    recipe = load_recipe(recipe_file)
    recipe = recipe.model_copy(update={"stages": [s for s in recipe.stages
                                                  if not s.use.startswith("dedup.")]})
    runs = {engine: run_recipe(recipe.model_copy(update={"engine": engine}), tmp_path / engine,
                               recipe_file=recipe_file, report=False)
            for engine in ("local", "ray")}
    assert [s["stats"]["engine"] for s in runs["ray"]["stages"][1:]] == [
        "ray: tasks (1 node)", "ray: actor pool (1 node)", "ray: tasks (1 node)"]
    for a, b in zip(runs["local"]["stages"], runs["ray"]["stages"]):
        assert (a["rows_in"], a["rows_out"], a["dropped"]) == (b["rows_in"], b["rows_out"],
                                                               b["dropped"])
        assert {k: v for k, v in b["stats"].items() if k != "engine"} == a["stats"], b["name"]
        for sub in ("checkpoint", "rejected"):
            left = part_files(tmp_path / "local" / a[sub])
            right = part_files(tmp_path / "ray" / b[sub])
            assert [p.name for p in right] == [p.name for p in left]
            for x, y in zip(left, right):
                assert pl.read_parquet(y).equals(pl.read_parquet(x)), y
    assert len(part_files(tmp_path / "ray" / runs["ray"]["stages"][1]["checkpoint"])) > 5
    assert runs["ray"]["stages"][1]["dropped"]  # the rules drop some rows
    audits = [json.loads((tmp_path / e / "bias.json").read_text()) for e in ("local", "ray")]
    assert audits[0] == audits[1]
    assert pl.read_parquet(tmp_path / "ray" / "data.parquet").equals(
        pl.read_parquet(tmp_path / "local" / "data.parquet"))


def test_toxicity_scores_cached_on_ray(ray_local, tmp_path):
    """A rerun from safety.toxicity with another threshold rescores nothing on Ray either."""
    recipe_file = REPO / "pipelines" / "demo.yaml"
    recipe = load_recipe(recipe_file).model_copy(update={"engine": "ray"})
    first = run_recipe(recipe, tmp_path, recipe_file=recipe_file, report=False,
                       until="safety.toxicity")
    tox = first["stages"][-1]
    assert tox["name"] == "safety.toxicity" and tox["stats"]["texts_scored"] == 267
    stages = [s.model_copy(update={"with_": {**s.with_, "max": 0.99}})
              if s.use == "safety.toxicity" else s for s in recipe.stages]
    again = run_recipe(recipe.model_copy(update={"stages": stages}), tmp_path,
                       recipe_file=recipe_file, report=False, from_stage="safety.toxicity",
                       until="safety.toxicity")
    tox = again["stages"][-1]
    assert tox["stats"]["texts_scored"] == 0  # all cached (the actors only read the cache)
    assert tox["stats"]["engine"] == "ray: actor pool (1 node)"
    assert tox["rows_in"] - tox["rows_out"] < 6  # fewer replies reach 0.99 than 0.5


def _tool_and_wordless_frame() -> pl.DataFrame:
    """Records with tool calls (one repeated with another call id, one with other arguments),
    replies without a word, and one plain near copy."""
    from curate.records import records_to_frame

    def call(city, call_id):
        return {"role": "assistant", "content": "", "tool_calls": [
            {"id": call_id, "type": "function",
             "function": {"name": "get_weather", "arguments": f'{{"city": "{city}"}}'}}]}

    def tool_conv(id, city, call_id):
        return {"id": id, "kind": "sft", "source": "gen", "messages": [
            {"role": "user", "content": "What is the weather like today in the city?"},
            call(city, call_id), {"role": "tool", "content": "18C", "tool_call_id": call_id},
            {"role": "assistant", "content": "It is 18C."}]}

    text = "the quick brown fox jumps over the lazy dog near the river bank today"
    recs = [tool_conv("t-oslo", "Oslo", "c1"), tool_conv("t-rome", "Rome", "c2"),
            tool_conv("t-oslo-again", "Oslo", "c9")]
    recs += [{"id": f"w{i}", "kind": "sft", "source": "gen", "messages": [
        {"role": "user", "content": prompt}, {"role": "assistant", "content": reply}]}
        for i, (prompt, reply) in enumerate([("Send a rocket", "🚀"), ("Smile", "😀"),
                                             ("Pardon?", "???"), ("Go on", "...")])]
    recs += [{"id": i, "kind": "sft", "source": "gen", "messages": [
        {"role": "user", "content": "Tell me"}, {"role": "assistant", "content": t}]}
        for i, t in (("a", text), ("a2", text.replace("river", "lake")))]
    return records_to_frame(recs)


def test_tool_calls_and_wordless_replies_same_rows(ray_local):
    local, ray_engine = get_engine("local"), get_engine("ray")
    df = _tool_and_wordless_frame()
    # the wordless replies are never near duplicates; the tool conversations' last reply is
    # the same; by the whole conversation, only another call id is a copy
    want = [("dedup.exact", {}, ["t-oslo-again"]),
            ("dedup.near", {"on": "response", "ngram": 1, "threshold": 0.5},
             ["t-rome", "t-oslo-again", "a2"]),
            ("dedup.near", {"threshold": 0.9, "ngram": 2}, ["t-oslo-again"])]
    ctx = StageContext(seed=0)
    for use, options, removed in want:
        a = local.apply(stage_class(use)(options), df, ctx)
        b = ray_engine.apply(stage_class(use)(options), df, ctx)
        assert b.kept.equals(a.kept) and b.rejected.equals(a.rejected), (use, options)
        assert sorted(a.rejected["id"].to_list()) == sorted(removed), (use, options)
    a = local.apply(stage_class("quality.rules")({}), df, ctx)
    b = ray_engine.apply(stage_class("quality.rules")({}), df, ctx)
    assert b.kept.equals(a.kept) and b.rejected.equals(a.rejected)
    assert {"t-oslo", "t-rome", "t-oslo-again"} <= set(a.kept["id"])   # calls are not empty
