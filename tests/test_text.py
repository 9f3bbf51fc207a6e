import polars as pl
import pytest

from curate.text import normalize, normalize_expr

CASES = [
    ("Ｈｅｌｌｏ  World", "hello world"),
    (" Straße\u00a0\u2003X\n", "strasse x"),
    ("ﬁne\tOK ", "fine ok"),
    ("a\x1fb  c", "a\x1fb c"),          # join_messages' separators are not white space
    ("\u3000x\u3000", "x"),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_python_and_polars_normalisation_agree(text, expected):
    assert normalize(text) == expected
    frame = pl.DataFrame({"t": [text]})
    assert frame.select(normalize_expr(pl.col("t"))).item() == expected
