import numpy as np
import pytest

from curate.errors import CurateError
from curate.select import METHODS, select_rows

from .conftest import topics


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_same_sample(planted, method):
    X, topic = planted
    scores = np.linspace(0, 1, len(X))
    kw = dict(method=method, scores=scores, labels=topic, min_distance=0.01)
    a = select_rows(X, 30, seed=1, **kw).picks
    assert len(a) == len(set(a.tolist())) == 30
    assert a.tolist() == select_rows(X, 30, seed=1, **kw).picks.tolist()
    # deita has no randomness; nor has facility location up to EXACT_ROWS (an exact graph)
    if method not in ("deita", "facility"):
        assert a.tolist() != select_rows(X, 30, seed=2, **kw).picks.tolist()


@pytest.mark.parametrize("method", METHODS)
def test_strata_keep_their_share_and_kept_rows_stay(method):
    X, topic = topics((400, 100), dim=16, seed=2)
    strata = np.array([0] * 350 + [1] * 100 + [2] * 50)  # 70% / 20% / 10%
    keep = np.zeros(500, dtype=bool)
    keep[[460, 470]] = True  # two kept rows in stratum 2
    sel = select_rows(X, 40, method=method, seed=0, keep=keep, strata=strata,
                      scores=np.ones(500), labels=topic, min_distance=0.0)
    assert np.bincount(strata[sel.picks]).tolist() == [28, 8, 4]
    assert {460, 470} <= set(sel.picks.tolist())
    assert sel.info["strata"] == [28, 8, 4]
    # every prefix of the ranking keeps the shares too (interleaved)
    assert np.bincount(strata[sel.picks[:10]], minlength=3).tolist() == [7, 2, 1]


def test_kept_rows_count_towards_the_budget(planted):
    X, _ = planted
    keep = np.zeros(len(X), dtype=bool)
    keep[:5] = True
    assert select_rows(X, 5, keep=keep).picks.tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(CurateError, match="6 rows must be kept but the budget is 5"):
        keep[5] = True
        select_rows(X, 5, keep=keep)


def test_bad_requests_are_clear_errors(planted):
    X, _ = planted
    with pytest.raises(CurateError, match="unknown selection method 'mmr'"):
        select_rows(X, 3, method="mmr")
    with pytest.raises(CurateError, match="deita needs a score"):
        select_rows(X, 3, method="deita")
