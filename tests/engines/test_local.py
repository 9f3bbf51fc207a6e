from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from curate.engines import get_engine
from curate.engines.local import LocalEngine, apply_frame
from curate.errors import CurateError
from curate.io.frame_parts import FrameParts, FrameStore
from curate.io.parts import Parts, write_parts
from curate.messages import response_messages
from curate.records import conform, records_to_frame
from curate.stages.base import (DROP_REASON, RowScorer, StageContext, StageData, StageOptions,
                                StageOutput, StageResult)
from curate.stages.dedup_exact import ExactDedup
from curate.stages.registry import stage_class


def test_local_engine_is_stage_apply():
    turns = [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]
    df = records_to_frame([{"id": i, "kind": "sft", "source": "t", "messages": turns}
                           for i in ("a", "b")])
    engine = get_engine("local")
    res = engine.apply(ExactDedup(), df, StageContext())
    assert res.kept["id"].to_list() == ["a"]
    assert res.rejected["kept_id"].to_list() == ["a"]
    assert engine.manifest() == {"engine": "local"}


def test_unknown_engine():
    with pytest.raises(CurateError, match="engine 'spark': expected one of local, ray"):
        get_engine("spark")


# -- the frame API: the frame's rows in memory, the same records as a run on storage ------------
def _generated(n: int, seed: int = 0) -> pl.DataFrame:
    """SFT records of 60 words with planted exact copies (other case and spacing), near
    copies (one word changed), refusals and too short replies."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(300)]
    texts = [" ".join(rng.choice(vocab, 60)) for _ in range(n)]
    prompts = [f"question {i % 13}" for i in range(n)]
    for i in range(0, n, 7):
        src = (i * 5 + 1) % n
        words = texts[src].split()
        words[30] = "changed"
        texts[i] = " ".join(words) if i % 2 else "  " + texts[src].upper()
        prompts[i] = prompts[src]
    for i in range(3, n, 17):
        texts[i] = "As an AI language model, I cannot do that."
    for i in range(5, n, 19):
        texts[i] = "ok"
    return conform(records_to_frame([
        {"id": f"g{i}", "kind": "sft", "source": "gen",
         "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": t}]}
        for i, (q, t) in enumerate(zip(prompts, texts))]))


class _QuotaOptions(StageOptions):
    quota: int = 40


class _Quota(RowScorer):
    """Scores reply lengths, drops short ones, keeps the first ``quota`` of the rest (a
    refine) and counts what it saw (stats): the scratch parts of a row stage (test only)."""

    id = "test.quota"
    Options = _QuotaOptions
    writes = ("chars",)

    def score(self, batch, ctx):
        text = response_messages().list.eval(pl.element().struct.field("content")).list.join("")
        return batch.with_columns(text.str.len_chars().cast(pl.Int64).alias("chars"))

    def checks(self, columns):
        return [("short", pl.col("chars") < 5)]

    def refine(self, decided, ctx):
        alive = decided[DROP_REASON].is_null()
        over = alive & (alive.cum_sum() > self.options.quota)
        return decided.with_columns(pl.when(over).then(pl.lit("over_quota"))
                                    .otherwise(pl.col(DROP_REASON)).alias(DROP_REASON)), {}

    def stats(self, scored, kept, ctx):
        return {"seen": scored.height, "chars": int(kept["chars"].sum()),
                "columns": sorted(scored.columns)}


def _stage(use: str, options: dict):
    stage = _Quota(options) if use == "test.quota" else stage_class(use)(options)
    stage.batch_size = stage.sign_batch_size = 16  # several pieces in each part
    return stage


STAGES = [("dedup.exact", {}), ("dedup.exact", {"on": "prompt"}),
          ("dedup.near", {"threshold": 0.7}), ("dedup.near", {"threshold": 0.7, "keep": "longest"}),
          ("quality.rules", {}), ("test.quota", {})]


def _same(a: StageOutput | StageResult, b: StageOutput | StageResult) -> None:
    if isinstance(a, StageOutput):
        assert a.kept.counts() == b.kept.counts()  # the same parts
        assert a.rejected.counts() == b.rejected.counts()
        assert (a.rows_in, a.rows_out, a.drops) == (b.rows_in, b.rows_out, b.drops)
        a, b = a.result(), b.result()
    assert_frame_equal(a.kept, b.kept, check_exact=True)
    assert_frame_equal(a.rejected, b.rejected, check_exact=True)
    assert (a.stats, a.added) == (b.stats, b.added)


@pytest.mark.parametrize(("use", "options"), STAGES)
def test_frames_in_memory_give_the_stage_run_on_storage(tmp_path, use, options):
    df = _generated(130)

    def run(data: StageData) -> StageOutput:
        return LocalEngine().run_stage(_stage(use, options), data, StageContext(name=use))

    # parts of 50 rows, pieces of 16: pieces end at part ends, as in storage
    stored = run(StageData(write_parts(df, tmp_path / "in", rows=50), tmp_path / "kept",
                           tmp_path / "rejected", tmp_path / "scratch"))
    held = run(StageData(FrameParts.of(df, rows=50), tmp_path / "m" / "kept",
                         tmp_path / "m" / "rejected", tmp_path / "m" / "scratch",
                         memory=FrameStore()))
    assert isinstance(held.kept, FrameParts) and len(held.kept.counts()) >= 3
    assert stored.rows_in == 130 and 0 < stored.rows_out < 130
    _same(stored, held)
    # nothing of it in storage, not even spilled keys; near dedup's Jaccard check stages the
    # texts of the rows in a pair as files of its own (for its tasks), as embeddings are
    stored_files = sorted(p.relative_to(tmp_path / "m").parts[:2]
                          for p in (tmp_path / "m").rglob("*") if p.is_file())
    assert set(stored_files) <= ({("scratch", "verify")} if use == "dedup.near" else set())
    # the frame API (in memory) and its form on storage (the Ray engine's)
    stage, ctx = _stage(use, options), StageContext(name=use)
    _same(stage.apply(df, ctx), apply_frame(LocalEngine(), stage, df, ctx))


@pytest.mark.parametrize(("use", "options"), STAGES)
def test_the_frame_api_writes_no_parquet(monkeypatch, use, options):
    written = []
    write = pl.DataFrame.write_parquet

    def spy(self, file, *args, **kwargs):
        written.append(file)
        return write(self, file, *args, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "write_parquet", spy)
    result = _stage(use, options).apply(_generated(130))
    assert result.kept.height + result.rejected.height == 130
    assert written == []


def test_the_frame_api_gives_the_records_of_curate_run(tmp_path):
    from click.testing import CliRunner

    from curate.cli import cli

    source = tmp_path / "records.parquet"
    _generated(130).write_parquet(source)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: r\ninput: {{path: {source}}}\nstages:\n  - use: dedup.exact\n"
                      "  - use: quality.rules\n  - use: dedup.near\n"
                      "    with: {threshold: 0.7, keep: longest}\n")
    out = tmp_path / "run"
    done = CliRunner().invoke(cli, ["run", str(recipe), "-o", str(out)])
    assert done.exit_code == 0, done.output
    df = Parts(out / "stages" / "00_convert.parquet").read()
    for slug, use, options in [("01_dedup.exact", "dedup.exact", {}),
                               ("02_quality.rules", "quality.rules", {}),
                               ("03_dedup.near", "dedup.near",
                                {"threshold": 0.7, "keep": "longest"})]:
        result = stage_class(use)(options).apply(df, StageContext(name=use))
        assert result.rejected.height > 0, use
        assert_frame_equal(result.kept, Parts(out / "stages" / f"{slug}.parquet").read(),
                           check_exact=True)
        assert_frame_equal(result.rejected, Parts(out / "rejected" / f"{slug}.parquet").read(),
                           check_exact=True)
        df = result.kept
