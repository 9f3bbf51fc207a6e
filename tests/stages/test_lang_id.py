import json

import polars as pl
import pytest

from curate.convert import convert
from curate.errors import RecipeError, StageError
from curate.recipe import parse_recipe
from curate.runner import run_recipe
from curate.stages.base import StageContext
from curate.stages.lang_id import SCORE_COLUMNS, LangId, lang_id

from ..conftest import FAQ_SAMPLE
from ..lang.test_record import DE, EN, FR

ASK = {"en": "When is the museum open?", "de": "Wann ist das Museum geöffnet?",
       "fr": "Quand le musée est-il ouvert ?"}
REPLY = {"en": EN, "de": DE, "fr": FR}


@pytest.fixture
def df(rec):
    return rec.frame(
        rec.qa(ASK["en"], EN, id="en"),
        rec.qa(ASK["de"], DE, id="de"),
        rec.qa(ASK["fr"], FR, id="fr"),
        rec.qa(f"Translate into French:\n\n{EN}", FR, id="en>fr"),   # mixed: en + fr
        rec.qa("Say it in English and German.", f"{EN}\n\n{DE}", id="en+de"),  # mixed
        rec.qa("1 + 1", "2", id="nothing"),                           # no letters
        rec.qa("Hi", "Hello!", id="short"),                           # low score
        rec.pair(ASK["en"], EN, FR, id="pair"),                       # rejected in French
    )


def ids(frame: pl.DataFrame) -> list[str]:
    return frame["id"].to_list()


def test_labels_every_record_and_keeps_all_without_options(df):
    result = LangId().apply(df, StageContext(name="lang.id"))
    assert result.rejected.height == 0
    assert result.kept.columns == [*df.columns, *SCORE_COLUMNS]
    got = {r["id"]: r for r in result.kept.iter_rows(named=True)}
    assert [got[i]["lang"] for i in ("en", "de", "fr")] == ["en", "de", "fr"]
    assert (got["en>fr"]["lang_prompt"], got["en>fr"]["lang_response"]) == ("en", "fr")
    assert got["en>fr"]["lang_mixed"] and got["en+de"]["lang_mixed"] and got["pair"]["lang_mixed"]
    assert sorted(got["en+de"]["lang_languages"]) == ["de", "en"]
    assert not any(got[i]["lang_mixed"] for i in ("en", "de", "fr", "short", "nothing"))
    assert got["nothing"]["lang"] is None and got["nothing"]["lang_score"] is None
    assert got["pair"]["lang_response"] == "en"   # the chosen reply
    stats = result.stats
    assert stats["languages"]["en"] == {"kept": stats["languages"]["en"]["kept"], "dropped": 0}
    assert stats["languages"]["und"] == {"kept": 1, "dropped": 0}
    assert stats["mixed"] == 3 and stats["prompt_response_differ"] >= 1
    assert stats["detector"]["detector"] == "fastText lid.176.ftz"
    assert stats["texts_detected"] > df.height


def test_keep_drops_other_languages_by_the_main_one(df):
    labels = dict(LangId().apply(df, StageContext(name="l")).kept.select("id", "lang").iter_rows())
    result = lang_id(df, keep=["en"])
    assert {"de", "fr"} <= set(ids(result.rejected))
    assert {"en", "pair", "nothing", "short"} <= set(ids(result.kept))
    # a mixed record goes by its main language (the translation's is French or English)
    assert set(ids(result.rejected)) == {i for i, lang in labels.items()
                                         if lang is not None and lang != "en"}
    assert set(result.rejected["drop_reason"]) == {"wrong_language"}
    assert result.stats["languages"]["de"]["kept"] == 0
    assert "en" in result.stats["kept_languages"] and "fr" not in result.stats["kept_languages"]


def test_mixed_policies(df):
    mixed_ids = {"en>fr", "en+de", "pair"}
    anyone = lang_id(df, keep=["en"], mixed="any")
    assert set(ids(anyone.rejected)) == {"de", "fr"}          # the translation stays
    every = lang_id(df, keep=["en"], mixed="all")
    assert set(ids(every.rejected)) == {"de", "fr"} | mixed_ids
    dropped = lang_id(df, mixed="drop")
    assert set(ids(dropped.rejected)) == mixed_ids
    assert set(dropped.rejected["drop_reason"]) == {"mixed_language"}
    # en + de is kept with both languages asked for
    both = lang_id(df, keep=["en", "de"], mixed="all")
    assert "en+de" in ids(both.kept) and "en>fr" in ids(both.rejected)


def test_min_score_is_checked_first(df):
    result = lang_id(df, keep=["en"], min_score=0.5)
    reasons = dict(zip(ids(result.rejected), result.rejected["drop_reason"]))
    assert reasons["short"] == "unknown_language"      # "Hi / Hello!" cannot be told
    assert reasons["de"] == "wrong_language"
    assert "nothing" in ids(result.kept)                # no letters: no language to judge
    assert result.stats["failures"]["unknown_language"] >= 1


def test_options_from_a_recipe_and_the_command_line_form():
    parse_recipe({"name": "t", "input": {"path": "x.jsonl"}, "stages": [
        {"use": "lang.id", "with": {"keep": ["en", "de"], "min_score": 0.3}}]})
    assert LangId({"keep": ["EN", " de "]}).options.keep == ["en", "de"]
    assert LangId({"keep": "en,de"}).options.keep == ["en", "de"]       # --lang-keep en,de
    assert LangId({"keep": ""}).options.keep is None
    with pytest.raises(RecipeError, match=r"stages\[0\].with.keep.*unknown language code.*eng"):
        parse_recipe({"name": "t", "input": {"path": "x.jsonl"}, "stages": [
            {"use": "lang.id", "with": {"keep": ["en", "eng"]}}]})


def test_labelled_input_is_an_error(df):
    labelled = LangId().apply(df, StageContext(name="l")).kept
    with pytest.raises(StageError, match=r"already has columns \['lang', "):
        LangId().apply(labelled, StageContext(name="l"))


def test_code_in_english_answers_is_not_another_language():
    """The vendored Python FAQ sample (rst with code blocks and doctests): nothing dropped."""
    frame = convert(FAQ_SAMPLE, format="docs").frame
    result = lang_id(frame, keep=["en"])
    assert result.rejected.height == 0 and frame.height > 30
    assert result.stats["languages"] == {"en": {"kept": frame.height, "dropped": 0}}


def test_rerun_with_other_options_does_not_detect_again(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"instruction": q, "input": "", "output": a}) + "\n"
                            for q, a in zip(ASK.values(), REPLY.values())))

    def recipe(**with_):
        return parse_recipe({"name": "t", "input": {"path": str(path)},
                             "stages": [{"use": "lang.id", "with": with_}]})

    first = run_recipe(recipe(keep=["en"]), tmp_path / "out", report=False)
    assert first["stages"][1]["dropped"] == {"wrong_language": 2}
    assert first["stages"][1]["stats"]["texts_detected"] > 0
    second = run_recipe(recipe(keep=["en", "de"]), tmp_path / "out", from_stage="lang.id",
                        report=False)
    assert second["stages"][1]["stats"]["texts_detected"] == 0
    assert second["stages"][1]["dropped"] == {"wrong_language": 1}
