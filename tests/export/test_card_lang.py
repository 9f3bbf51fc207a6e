import yaml

from curate.export.card import render_card

LANG_STAGE = {"name": "lang.id", "use": "lang.id", "rows_in": 10, "rows_out": 7,
              "dropped": {"wrong_language": 3},
              "thresholds": {"keep": ["en", "de"], "min_score": None},
              "stats": {"detector": {"detector": "fastText lid.176.ftz"},
                        "languages": {"en": {"kept": 5, "dropped": 0},
                                      "fr": {"kept": 0, "dropped": 3},
                                      "de": {"kept": 2, "dropped": 0}},
                        "kept_languages": ["en", "de"], "mixed": 1,
                        "thresholds": {"keep": ["en", "de"]}}}


def front(card: str) -> dict:
    return yaml.safe_load(card.split("---\n")[1])


def test_card_names_the_languages_kept():
    card = render_card(target="trl-sft", counts={"train": 7}, run_info={"stages": [LANG_STAGE]})
    assert front(card)["language"] == ["en", "de"]
    assert ("Languages kept (fastText lid.176.ftz; asked for: en, de): en (5), de (2); "
            "dropped: fr (3). Records that mix languages: 1.") in card


def test_without_lang_id_the_card_is_as_before():
    card = render_card(target="trl-sft", counts={"train": 7}, run_info={"stages": []})
    assert front(card)["language"] == ["en"] and "Languages kept" not in card
    given = render_card(target="trl-sft", counts={"train": 7},
                        run_info={"language": ["fr"], "stages": [LANG_STAGE]})
    assert front(given)["language"] == ["fr"]       # the run's own setting wins
