"""quality.ifd: IFD, perplexities and grounding from a causal LM (the tiny model of
tests/fixtures_lm.py, trained on its QA pairs; the packaged SmolLM2 where installed)."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from curate.errors import RecipeError, StageError
from curate.recipe import parse_recipe
from curate.runner import run_recipe
from curate.stages.base import StageContext
from curate.stages.quality_ifd import SCORE_COLUMNS, InstructionFollowingDifficulty

from ..fixtures_lm import QA
from ..llm.packaged import need_packaged_model

N = len(QA)


def true_and_swapped(rec) -> pl.DataFrame:
    """Each question with its own answer (t0..t9), then with the next question's (s0..s9)."""
    true = [rec.qa(q, a, id=f"t{i}") for i, (q, a) in enumerate(QA)]
    swapped = [rec.qa(QA[i][0], QA[(i + 1) % N][1], id=f"s{i}") for i in range(N)]
    return rec.frame(*true, *swapped)


def ifd_of(df: pl.DataFrame) -> dict[str, float]:
    return dict(zip(df["id"].to_list(), df["ifd"].to_list()))


@pytest.fixture
def tiny(tiny_lm):
    return {"model": str(tiny_lm)}


def test_swapped_replies_score_higher_and_are_dropped(rec, tiny):
    df = true_and_swapped(rec)
    result = InstructionFollowingDifficulty(tiny).apply(df, StageContext(name="quality.ifd"))
    assert result.kept.columns == [*df.columns, *SCORE_COLUMNS]
    scores = ifd_of(pl.concat([result.kept, result.rejected.drop("drop_reason")]))
    for i in range(N):
        # the same reply (so the same ppl_response) after its own question and another one
        assert scores[f"t{(i + 1) % N}"] < scores[f"s{i}"]
    assert all(scores[f"t{i}"] < 1.0 for i in range(N))
    assert result.stats["thresholds"]["max"] == 1.05  # the default
    assert set(result.rejected["drop_reason"]) == {"ifd_high"}
    assert result.rejected["id"].str.starts_with("s").all()
    assert (result.rejected["ifd"] > 1.05).all() and (result.kept["ifd"] <= 1.05).all()
    kept = result.kept.with_columns(ratio=pl.col("ppl_conditional") / pl.col("ppl_response"))
    np.testing.assert_allclose(kept["ratio"], kept["ifd"], rtol=1e-9)
    assert kept["ifd_chosen"].null_count() == kept.height and kept["grounding"].null_count() \
        == kept.height
    stats = result.stats
    assert stats["failures"] == {"ifd_high": result.rejected.height}
    assert stats["sequences_scored"] == 2 * 2 * N - N  # each reply's alone sequence once
    assert stats["rows_scored"] == 2 * N and stats["rows_grounded"] == 0
    assert stats["model"]["dtype"] == "float32" and stats["model"]["device"] == "cpu"


def test_a_records_scores_do_not_depend_on_its_batch(rec, tiny):
    df = true_and_swapped(rec)
    stage = InstructionFollowingDifficulty(tiny)
    ctx = StageContext(name="quality.ifd")
    whole = stage.score(df, ctx)
    alone = pl.concat([stage.score(df.slice(i, 1), ctx) for i in range(df.height)])
    backwards = stage.score(df.reverse(), ctx).reverse()
    small = InstructionFollowingDifficulty({**tiny, "batch_size": 3}).score(df, ctx)
    for other in (alone, backwards, small):
        for column in ("ppl_response", "ppl_conditional", "ifd"):
            np.testing.assert_allclose(other[column], whole[column], rtol=1e-5)


def test_pairs_score_both_replies(rec, tiny):
    df = rec.frame(rec.pair(QA[0][0], QA[0][1], QA[5][1], id="p"), rec.qa(*QA[1], id="q"))
    stage = InstructionFollowingDifficulty({**tiny, "max": None})
    out = stage.apply(df, StageContext(name="t")).kept
    pair, sft = out.row(0, named=True), out.row(1, named=True)
    assert pair["ifd_chosen"] == pair["ifd"] < pair["ifd_rejected"]
    assert pair["ppl_conditional"] < pair["ppl_response"]
    assert sft["ifd_chosen"] is None and sft["ifd_rejected"] is None and sft["ifd"] < 1
    assert stage.sequences_scored == 6


def test_grounding_where_meta_has_the_passage(rec, tiny):
    q, a = QA[3]
    df = rec.frame(rec.qa(q, a, id="g", meta={"passage": "rivers carry water to the sea"}),
                   rec.qa(q, a, id="n", meta={}),
                   rec.qa(q, a, id="k", meta={"source_text": "bees visit flowers"}))
    scored = InstructionFollowingDifficulty(tiny).score(df, StageContext())
    g = scored["grounding"].to_list()
    assert g[0] is not None and g[1] is None and g[2] is None
    other = InstructionFollowingDifficulty({**tiny, "passage": "source_text"}).score(
        df, StageContext())
    assert other["grounding"].to_list()[:2] == [None, None] and other["grounding"][2] > 0
    strict = InstructionFollowingDifficulty({**tiny, "grounding_max": g[0] / 2}).apply(
        df, StageContext(name="t"))
    assert strict.rejected["id"].to_list() == ["g"]
    assert strict.rejected["drop_reason"].to_list() == ["ungrounded"]
    lenient = InstructionFollowingDifficulty({**tiny, "grounding_max": g[0] * 2}).apply(
        df, StageContext(name="t"))
    assert lenient.rejected.height == 0


def test_min_threshold_and_rows_without_a_reply(rec, tiny):
    df = rec.frame(rec.qa(*QA[0], id="a"), rec.qa(QA[1][0], "", id="empty"),
                   {"kind": "prompt", "id": "p", "source": "t",
                    "prompt": [{"role": "user", "content": QA[2][0]}]})
    scored = InstructionFollowingDifficulty(tiny).score(df, StageContext())
    assert scored["ifd"][0] > 0
    assert scored.select(SCORE_COLUMNS).slice(1).null_count().row(0) == (2,) * 6
    result = InstructionFollowingDifficulty({**tiny, "min": scored["ifd"][0] * 2}).apply(
        df, StageContext(name="t"))
    assert result.rejected["id"].to_list() == ["a"]
    assert result.rejected["drop_reason"].to_list() == ["ifd_low"]
    assert result.kept["id"].to_list() == ["empty", "p"]  # no score, no decision


def test_rerun_with_another_threshold_does_not_rescore(tmp_path, tiny):
    path = tmp_path / "in.jsonl"
    rows = [(q, a) for q, a in QA] + [(QA[i][0], QA[(i + 1) % N][1]) for i in range(N)]
    path.write_text("".join(json.dumps({"instruction": q, "input": "", "output": a}) + "\n"
                            for q, a in rows))

    def recipe(**with_):
        return parse_recipe({"name": "t", "input": {"path": str(path)},
                             "stages": [{"use": "quality.ifd", "with": {**tiny, **with_}}]})

    first = run_recipe(recipe(), tmp_path / "out", report=False)
    stage = first["stages"][1]
    assert stage["stats"]["sequences_scored"] == 3 * N
    dropped = stage["dropped"]["ifd_high"]
    second = run_recipe(recipe(max=None, min=0.5), tmp_path / "out", from_stage="quality.ifd",
                        report=False)
    again = second["stages"][1]
    assert again["stats"]["sequences_scored"] == 0              # every score from the cache
    assert again["stats"]["model"]["device"] == "not loaded (every score from the cache)"
    rejected = pl.read_parquet(tmp_path / "out" / again["rejected"])
    assert set(rejected["drop_reason"]) == {"ifd_low"} and (rejected["ifd"] < 0.5).all()
    assert again["rows_out"] + again["dropped"]["ifd_low"] == 2 * N
    assert dropped > 0


def test_scored_input_is_refused(rec, tiny):
    df = rec.frame(rec.qa(*QA[0])).with_columns(ifd=pl.lit(0.5))
    with pytest.raises(StageError, match=r"quality.ifd: the input already has the columns "
                                         r"\['ifd'\]"):
        InstructionFollowingDifficulty(tiny).apply(df, StageContext(name="t"))


@pytest.mark.parametrize("options, message", [
    ({"min": 1.2, "max": 1.0}, r"stages\[0\].with.min: must be below max \(1.0\), not 1.2$"),
    ({"model": "no/such/model"}, r"stages\[0\].with.model: 'no/such/model': "
                                 r"expected 'smollm2-135m-instruct', a local Hugging Face"),
    ({"passage": "a.b"}, r"stages\[0\].with.passage: 'a.b': expected a meta key"),
    ({"max": 0}, r"stages\[0\].with.max: Input should be greater than 0"),
])
def test_options_are_validated(options, message):
    with pytest.raises(RecipeError, match=message):
        parse_recipe({"name": "t", "input": {"path": "x.jsonl"},
                      "stages": [{"use": "quality.ifd", "with": options}]})


def test_the_packaged_model_tells_swapped_replies(rec):
    """SmolLM2-135M-Instruct, the default: each reply is easier to predict after its own
    instruction than after another one."""
    need_packaged_model()
    pairs = [("What is the capital of France?", "The capital of France is Paris."),
             ("How do I reverse a list in Python?",
              "Call my_list.reverse() to reverse it in place, or use my_list[::-1] for a copy."),
             ("Give me a tip for baking bread.",
              "Let the dough rise in a warm place until it doubles in size before baking.")]
    true = [rec.qa(q, a, id=f"t{i}") for i, (q, a) in enumerate(pairs)]
    swapped = [rec.qa(pairs[i][0], pairs[(i + 1) % 3][1], id=f"s{i}") for i in range(3)]
    scored = InstructionFollowingDifficulty().score(rec.frame(*true, *swapped), StageContext())
    scores = ifd_of(scored)
    for i in range(3):
        assert scores[f"t{(i + 1) % 3}"] < scores[f"s{i}"]
