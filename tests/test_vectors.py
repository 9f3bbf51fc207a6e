from __future__ import annotations

import pickle

import numpy as np

from curate.vectors import RowView, Vectors, view


def test_a_file_of_zeros_written_row_by_row(tmp_path):
    vectors = Vectors.create(tmp_path / "v" / "emb.npy", rows=6, dim=3)
    assert vectors.shape == (6, 3) and not vectors.array().any()
    values = np.arange(12, dtype=np.float32).reshape(4, 3)
    vectors.write(np.array([5, 1, 2, 4]), values)  # any order; runs 1-2 and 4-5
    expected = np.zeros((6, 3), np.float32)
    expected[[5, 1, 2, 4]] = values
    assert np.array_equal(vectors.array(), expected)
    assert np.array_equal(np.load(vectors.path), expected)  # a plain .npy file
    assert isinstance(vectors.array(), np.memmap)
    vectors.remove()
    assert not (tmp_path / "v" / "emb.npy").exists()


def test_from_array_and_no_rows(tmp_path):
    X = np.random.default_rng(0).random((5, 4)).astype(np.float32)
    assert np.array_equal(Vectors.from_array(tmp_path / "x.npy", X).array(), X)
    empty = Vectors.create(tmp_path / "e.npy", rows=0, dim=384)
    assert empty.array().shape == (0, 384)


def test_a_view_reads_only_its_rows_and_pickles_as_the_handle(tmp_path):
    X = np.arange(40, dtype=np.float32).reshape(10, 4)
    vectors = Vectors.from_array(tmp_path / "x.npy", X)
    v = view(vectors, np.array([7, 2, 9, 4]))
    assert v.shape == (4, 4) and len(v) == 4
    assert np.array_equal(v[1:3], X[[2, 9]])
    assert np.array_equal(v[np.array([3, 0])], X[[4, 7]])
    assert np.array_equal(v.subset(np.array([2, 1]))[:], X[[9, 2]])
    whole = view(vectors)
    assert whole.shape == (10, 4) and np.array_equal(whole[8:], X[8:])
    shipped = pickle.loads(pickle.dumps(v))
    assert len(pickle.dumps(v)) < 1000  # the path and the row numbers, not the rows
    assert np.array_equal(shipped[:], X[[7, 2, 9, 4]])
    assert np.array_equal(view(X, np.array([1]))[:], X[[1]])  # an array works too
    assert isinstance(view(v), RowView) and view(v) is v
