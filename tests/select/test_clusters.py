import numpy as np
import pytest

from curate.select.clusters import cluster_select, default_n_clusters, kmeans

from .conftest import topics


def test_kmeans_finds_planted_topics_and_is_seeded():
    X, topic = topics((200, 150, 100, 80, 60), dim=32, noise=0.2, seed=1)
    labels = kmeans(X, 5, seed=0)
    # the same partition as the topics (label numbers follow first appearance)
    pairs = set(zip(topic.tolist(), labels.tolist()))
    assert len(pairs) == 5 and len({t for t, _ in pairs}) == 5
    assert labels[0] == 0
    assert labels.tolist() == kmeans(X, 5, seed=0).tolist()
    # a sample-fitted model labels every row too
    sampled = kmeans(X, 5, seed=0, fit_rows=100)
    assert len(set(zip(topic.tolist(), sampled.tolist()))) == 5


@pytest.mark.parametrize("per_cluster,expected", [
    ("uniform", [8, 8, 8, 8, 8]),
    ("proportional", [16, 11, 8, 4, 1]),  # 16, 10.67, 8, 4, 1.33: one unit to the .67
    ("sqrt", [12, 10, 9, 6, 3]),  # 12.08, 9.86, 8.54, 6.04, 3.49: units to .86 and .54
])
@pytest.mark.parametrize("within", ["random", "kcenter"])
def test_quotas_add_up_per_cluster(per_cluster, expected, within):
    X, labels = topics((300, 200, 150, 75, 25), dim=16, seed=3)  # planted clusters
    picks = cluster_select(X, labels, 40, per_cluster=per_cluster, within=within, seed=0)
    assert len(picks) == len(set(picks.tolist())) == 40
    got = np.bincount(labels[picks], minlength=5)
    assert got.tolist() == expected
    assert picks.tolist() == cluster_select(X, labels, 40, per_cluster=per_cluster,
                                            within=within, seed=0).tolist()


def test_kept_rows_count_in_their_cluster():
    X, _ = topics((50, 50), dim=8, seed=0)
    labels = kmeans(X, 2, seed=0)
    in_zero = np.flatnonzero(labels == 0)[:7]
    picks = cluster_select(X, labels, 10, per_cluster="uniform", within="random",
                           initial=in_zero)
    assert set(in_zero.tolist()) <= set(picks.tolist())
    assert np.bincount(labels[picks]).tolist() == [7, 3]  # the floor lifts cluster 0's quota


def test_default_number_of_clusters():
    assert default_n_clusters(10_000, 1000) == 100
    assert default_n_clusters(1_000_000, 10_000) == 256
    assert default_n_clusters(400, 5) == 5
    assert default_n_clusters(3, 3) == 2
