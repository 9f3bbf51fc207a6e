import numpy as np
import polars as pl
import pytest

from curate.dedup.reference import write_blob
from curate.dedup.verify import Texts, check_pairs, stage_texts
from curate.in_process import InProcess
from curate.io.parts import write_parts

TEXTS = ["a b c d", "a b c e", "x y", None, "ＡＢ c d", "ab c d", "a b c d e", "é x y"]


def _staged(tmp_path, rows, *, lengths=False):
    """The texts at ``rows`` staged from a dataset of pieces of 3 rows."""
    parts = write_parts(pl.DataFrame({"t": TEXTS}), tmp_path / "in", rows=3)
    return stage_texts(InProcess(), parts, np.asarray(rows), pl.col("t"), tmp_path / "blob",
                       lengths=lengths, desc="texts")


def test_staged_texts_are_the_rows_normalised_with_their_lengths(tmp_path):
    rows = [0, 3, 4, 7]
    texts, lengths = _staged(tmp_path, rows, lengths=True)
    assert texts.starts == (0, 1, 3)  # pieces [0, 3), [3, 6), [6, 8) hold 1, 2 and 1 rows
    # NFKC folds the full-width letters and lower-cases what it touched
    assert texts.read(np.arange(4)).to_list() == ["a b c d", "", "ab c d", "é x y"]
    assert lengths.dtype == np.uint32 and lengths.tolist() == [7, 0, 6, 5]
    assert _staged(tmp_path, rows)[1] is None


@pytest.mark.parametrize("batch", [1, 2, 100])
def test_pairs_checked_in_blocks_as_one(tmp_path, batch):
    rows = np.arange(len(TEXTS))
    texts, _ = _staged(tmp_path, rows)
    a, b = np.array([0, 0, 1, 4, 2, 3, 0]), np.array([1, 6, 6, 5, 7, 3, 5])
    # word 2-grams; a text without words has none (Jaccard 0, even with itself)
    ok = check_pairs(InProcess(), texts, a, texts, b, ngram=2, threshold=0.5, batch=batch,
                     desc="verify")
    assert ok.tolist() == [True, True, False, True, True, False, False]


def test_pairs_against_other_texts_normalised_when_read(tmp_path):
    texts, _ = _staged(tmp_path, np.arange(len(TEXTS)))
    write_blob(tmp_path / "ref", 0, pl.Series(["ＡＢ c d"]))
    write_blob(tmp_path / "ref", 1, pl.Series(["x y", "q r"]))
    ref = Texts(str(tmp_path / "ref"), (0, 1))
    assert ref.read(np.array([2, 0])).to_list() == ["q r", "ab c d"]
    ok = check_pairs(InProcess(), texts, np.array([5, 2, 2, 0]), ref, np.array([0, 1, 2, 0]),
                     ngram=2, threshold=1.0, batch=3, desc="verify")
    assert ok.tolist() == [True, True, False, False]
    assert check_pairs(InProcess(), texts, np.zeros(0), ref, np.zeros(0), ngram=2,
                       threshold=0.5, batch=3, desc="verify").shape == (0,)
