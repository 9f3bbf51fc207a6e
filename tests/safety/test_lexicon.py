import json

import polars as pl
import pytest

from curate.errors import CurateError
from curate.safety.lexicon import category_expr, load_lexicon, term_regex


def groups_of(*texts):
    lex = load_lexicon()
    df = pl.DataFrame({"t": list(texts)})
    return df.select(lex.groups_expr(pl.col("t")).alias("g"))["g"].to_list()


def test_shipped_lexicon_covers_the_categories_and_names_its_sources():
    lex = load_lexicon()
    assert list(lex.categories) == ["gender", "religion", "race_ethnicity", "nationality",
                                    "sexual_orientation", "disability", "age"]
    assert len(lex.sources) == 3 and any("HolisticBias" in s for s in lex.sources)


def test_mentions_are_whole_words_and_phrases_case_insensitive():
    assert groups_of("Older  people are hopeless", "Immigrants are all the same",
                     "Add black pepper and white rice", "The Wright brothers flew in 1903",
                     "Many MUSLIMS fast", "a non-binary friend", "") == [
        ["age/older"], ["nationality/immigrants"], [], [], ["religion/muslims"],
        ["gender/transgender_nonbinary"], []]


def test_category_columns_strip_the_prefix():
    df = pl.DataFrame({"g": [["age/older", "age/young", "gender/women"], []]})
    assert df.select(category_expr(pl.col("g"), "age"))["g"].to_list() == [["older", "young"], []]


def test_term_regex_escapes_and_prefers_longer_terms():
    assert term_regex(("gen z", "non-binary")) == r"(?i)\b(?:non-binary|gen\s+z)\b"


def test_custom_lexicon_errors_name_the_field(tmp_path):
    path = tmp_path / "lex.json"
    path.write_text(json.dumps({"categories": {"age": {"older": "elderly"}}}))
    with pytest.raises(CurateError, match=r"lex.json: field 'categories.age.older': expected"):
        load_lexicon(str(path))
    path.write_text(json.dumps({"sources": ["mine"], "categories": {"pets": {"cats": ["cat"]}}}))
    lex = load_lexicon(str(path))
    assert lex.group_keys() == ["pets/cats"] and lex.sources == ("mine",)


def test_colour_words_for_objects_are_not_race_mentions():
    assert groups_of("She counted 12 black pigeons and 5 white pigeons.",
                     "Buy two cans of white paint and one of black paint.",
                     "In chess, white moves first and black answers.",
                     "Black Friday sales start at the White House gift shop.") == [[], [], [], []]
    # a colour word with a people noun is a race mention
    assert groups_of("Black Americans and white voters were polled.",
                     "The black community organised the fair.") == [
        ["race_ethnicity/black", "race_ethnicity/white", "nationality/americans"],
        ["race_ethnicity/black"]]


def test_excluded_phrases_name_objects_not_people():
    assert groups_of("Plug the male connector into the female connector.",
                     "The gypsy moth caterpillar eats oak leaves.",
                     "Arab horses are bred for endurance.",
                     "Check the blind spot before changing lanes.") == [[], [], [], []]
    # the same words about people still count, also in a record that has an excluded phrase
    assert groups_of("Male and female patients took part.",
                     "Arab merchants sold the gypsy moth traps to women.") == [
        ["gender/women", "gender/men"], ["gender/women", "race_ethnicity/arab"]]


def test_a_custom_lexicons_exclusions_are_checked(tmp_path):
    path = tmp_path / "lex.json"
    path.write_text(json.dumps({"categories": {"pets": {"cats": ["cat"]}},
                                "exclude": {"toys": ["toy cat"]}}))
    with pytest.raises(CurateError, match=r"field 'exclude.toys': no such category"):
        load_lexicon(str(path))
    path.write_text(json.dumps({"categories": {"pets": {"cats": ["cat", "cats"]}},
                                "exclude": {"pets": ["cat flap"]}}))
    lex = load_lexicon(str(path))
    df = pl.DataFrame({"t": ["fix the cat flap", "the cat sat on the cat flap"]})
    assert df.select(lex.groups_expr(pl.col("t")).alias("g"))["g"].to_list() == [
        [], ["pets/cats"]]
