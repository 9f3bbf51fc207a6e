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
