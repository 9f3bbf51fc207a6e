import numpy as np
import pytest

from curate.dedup.lsh import band_hashes, candidate_pairs, optimal_param


@pytest.mark.parametrize(("threshold", "num_perm", "expected"), [
    (0.8, 128, (9, 13)), (0.5, 128, (25, 5)), (0.9, 256, (9, 28)), (0.7, 64, (8, 8)), (0.85, 128, (8, 16))])
def test_bands_and_rows_match_datasketch(threshold, num_perm, expected):
    assert optimal_param(threshold, num_perm) == expected


def test_threshold_out_of_range():
    with pytest.raises(ValueError):
        optimal_param(1.0, 128)


def test_band_hashes_equal_only_for_equal_bands_and_salt():
    sig = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [1, 2, 3, 4]], np.uint32)
    h = band_hashes(sig, 2, 2)
    assert h[0, 0] == h[1, 0] == h[2, 0] and h[0, 1] == h[2, 1] != h[1, 1]
    salted = band_hashes(sig, 2, 2, salt=np.array([0, 0, 5], np.uint64))
    assert salted[0, 0] == salted[1, 0] != salted[2, 0]


def test_candidate_pairs_from_any_shared_band():
    bands = np.array([[1, 10], [2, 10], [1, 11], [3, 12], [4, 12], [5, 13]], np.uint64)
    assert candidate_pairs(bands).tolist() == [[0, 1], [0, 2], [3, 4]]


def test_large_buckets_stay_linear_and_connected():
    bands = np.zeros((100, 1), np.uint64)
    pairs = candidate_pairs(bands, window=2)
    assert len(pairs) == 99 + 98
    assert {(i, i + 1) for i in range(99)} <= {tuple(p) for p in pairs.tolist()}
