import numpy as np
import polars as pl

from curate.dedup.components import components, split_clusters, survivors


def test_components_labelled_by_smallest_row():
    labels = components(6, np.array([[4, 1], [1, 3], [2, 5]]))
    assert labels.tolist() == [0, 1, 2, 1, 1, 2]


def test_survivors_by_rank_with_nulls_last_and_ties_by_order():
    labels = np.array([0, 0, 0, 3, 3])
    score = pl.Series([0.5, None, 0.9, 0.2, 0.2])
    assert survivors(labels).tolist() == [0, 0, 0, 3, 3]
    assert survivors(labels, [score], [True]).tolist() == [2, 2, 2, 3, 3]


def test_split_clusters_marks_kept_and_rejected():
    df = pl.DataFrame({"id": ["a", "b", "c", "d"], "dup_cluster": [None, None, "x", None]})
    kept, rejected, hist = split_clusters(df, np.array([0, 0, 2, 0]), "duplicate_near")
    assert kept.rows() == [("a", "a"), ("c", "x")]
    assert rejected.rows() == [("b", "a", "duplicate_near", "a"), ("d", "a", "duplicate_near", "a")]
    assert hist == {"3": 1}
