import json

import polars as pl
import pytest

from curate.errors import RecipeError, StageError
from curate.recipe import parse_recipe
from curate.runner import run_recipe
from curate.safety import scorers
from curate.stages.base import StageContext
from curate.stages.safety_toxicity import Toxicity, label_column

LABELS = ["toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack"]
QA = [
    ("your code was helpful", "you are a idiot"),
    ("the museum sounds great", "the museum opens at nine"),
    ("the recipe needs more salt", "the recipe is ready now"),
    ("the essay has a clear plan", "what a stupid question"),
    ("the report is about women", "all women are worthless"),
    ("you are a moron", "the bike works well"),          # toxic prompt, clean reply
]


@pytest.fixture
def tiny(tiny_detoxify):
    return {"checkpoint": str(tiny_detoxify.checkpoint), "config": str(tiny_detoxify.config_dir)}


@pytest.fixture
def df(rec):
    return rec.frame(*(rec.qa(q, a, id=f"r{i}") for i, (q, a) in enumerate(QA)))


def test_drops_toxic_replies_through_the_real_detoxify_class(df, tiny):
    result = Toxicity(tiny).apply(df, StageContext(name="safety.toxicity"))
    assert result.kept["id"].to_list() == ["r1", "r2", "r5"]
    assert result.rejected["id"].to_list() == ["r0", "r3", "r4"]
    assert result.rejected["drop_reason"].to_list() == ["toxic"] * 3
    assert result.kept.columns == [*df.columns, "toxicity", *(f"tox_{x}" for x in LABELS)]
    # the scores stay on the rejected rows; toxicity is the largest label score
    scores = result.rejected.select(pl.max_horizontal(pl.col("^tox_.*$")) == pl.col("toxicity"))
    assert scores.to_series().all()
    assert result.stats["scorer"]["scorer"] == "detoxify"
    assert result.stats["scorer"]["labels"] == LABELS
    assert result.stats["texts_scored"] == 6
    assert result.stats["failures"] == {"toxic": 3}


def test_label_thresholds_and_both_sides(df, tiny):
    stage = Toxicity({**tiny, "max": None, "max_label": {"identity_attack": 0.5}, "on": "both"})
    result = stage.apply(df, StageContext(name="t"))
    assert result.rejected["id"].to_list() == ["r4"]
    assert result.rejected["drop_reason"].to_list() == ["toxic_identity_attack"]
    both = Toxicity({**tiny, "on": "both"}).apply(df, StageContext(name="t"))
    assert both.rejected["id"].to_list() == ["r0", "r3", "r4", "r5"]   # the toxic prompt too


def test_unknown_label_is_an_error(df, tiny):
    with pytest.raises(StageError, match=r"max_label 'rudeness'.*labels: toxicity, "):
        Toxicity({**tiny, "max_label": {"rudeness": 0.2}}).apply(df, StageContext(name="t"))


def test_offline_scorer_when_detoxify_cannot_be_had(df):
    result = Toxicity({"model": "profanity-check"}).apply(df, StageContext(name="t"))
    assert "tox_profanity" in result.kept.columns
    # max: auto is profanity-check's own default, 0.9: the insults go, and the hostile
    # generalisation in polite words (0.63: a lexical model's limit) stays
    assert result.stats["thresholds"]["max"] == 0.9
    assert result.rejected["id"].to_list() == ["r0", "r3"]
    assert result.stats["scorer"]["scorer"] == "profanity-check"
    lower = Toxicity({"model": "profanity-check", "max": 0.5}).apply(df, StageContext(name="t"))
    assert lower.rejected["id"].to_list() == ["r0", "r3", "r4"]


def test_auto_threshold_is_detoxifys_own_with_a_detoxify_checkpoint(df, tiny):
    stage = Toxicity(tiny)
    result = stage.apply(df, StageContext(name="t"))
    assert stage.options.max == "auto" and result.stats["thresholds"]["max"] == 0.5


def test_label_column_names():
    assert label_column("Identity Attack") == "tox_identity_attack"


def test_rerun_with_another_threshold_does_not_rescore(tmp_path, rec, tiny):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"instruction": q, "input": "", "output": a}) + "\n"
                            for q, a in QA))

    def recipe(**with_):
        return parse_recipe({"name": "t", "input": {"path": str(path)}, "stages": [
            {"use": "quality.rules"}, {"use": "safety.toxicity", "with": {**tiny, **with_}}]})

    scorer = scorers.load_scorer(scorers.resolve_scorer(**tiny))
    calls = scorer.texts_scored
    first = run_recipe(recipe(max=0.5), tmp_path / "out", report=False)
    assert scorer.texts_scored - calls == 6
    assert first["stages"][2]["dropped"] == {"toxic": 3}
    second = run_recipe(recipe(max=None, max_label={"insult": 0.5}), tmp_path / "out",
                        from_stage="safety.toxicity", report=False)
    assert scorer.texts_scored - calls == 6                 # no text scored again
    assert second["stages"][2]["stats"]["texts_scored"] == 0
    assert second["stages"][2]["dropped"] == {"toxic_insult": 2}
    rejected = pl.read_parquet(tmp_path / "out" / "rejected" / "02_safety.toxicity.parquet")
    assert rejected["tox_insult"].min() > 0.5 and "toxicity" in rejected.columns
    kept = pl.read_parquet(tmp_path / "out" / "data.parquet")
    assert kept.height == 4 and kept["toxicity"].null_count() == 0


def test_options_are_validated():
    with pytest.raises(RecipeError, match=r"stages\[0\].with.max_label"):
        parse_recipe({"name": "t", "input": {"path": "x.jsonl"}, "stages": [
            {"use": "safety.toxicity", "with": {"max_label": {"insult": 3}}}]})
