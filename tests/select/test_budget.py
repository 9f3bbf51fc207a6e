import numpy as np
import pytest

from curate.errors import CurateError
from curate.select.budget import allocate, interleave, quotas, resolve_budget


def test_budget_is_a_count_or_a_fraction():
    assert resolve_budget(1000, 10) == 10
    assert resolve_budget(1000, 5000) == 1000
    assert resolve_budget(1000, 0.1) == 100
    assert resolve_budget(7, 0.5) == 4  # 3.5 rounds half up
    assert resolve_budget(7, 1.0) == 7
    for bad in (0, -1, 0.0, 1.5, True, "10"):
        with pytest.raises(CurateError):
            resolve_budget(100, bad)


def test_quotas_add_up_within_sizes():
    sizes = [900, 90, 9, 1]
    assert quotas(100, sizes, mode="proportional").tolist() == [90, 9, 1, 0]
    assert quotas(100, sizes, mode="uniform").tolist() == [45, 45, 9, 1]
    sq = quotas(100, sizes, mode="sqrt")
    assert sq.sum() == 100 and (sq <= np.array(sizes)).all()
    # sqrt weights 30 : 9.49 : 3 : 1, the last capped at its 1 row: 99 / 42.49 per unit
    # -> 69.90, 22.11, 6.99, 1; floors 69 + 22 + 6 + 1 = 98, the two largest remainders get +1
    assert sq.tolist() == [70, 22, 7, 1]
    for total in range(0, 1001, 37):
        for mode in ("uniform", "proportional", "sqrt"):
            q = quotas(total, sizes, mode=mode)
            assert q.sum() == total and (q >= 0).all() and (q <= np.array(sizes)).all()


def test_allocate_respects_floors_and_breaks_ties_by_group():
    assert allocate(10, [1, 1, 1], [10, 10, 10]).tolist() == [4, 3, 3]
    assert allocate(10, [1, 1, 1], [10, 10, 10], floors=[0, 0, 6]).tolist() == [2, 2, 6]
    with pytest.raises(CurateError, match="must be kept"):
        allocate(3, [1, 1], [5, 5], floors=[2, 2])
    with pytest.raises(CurateError, match="cannot place"):
        allocate(11, [1, 1], [5, 5])


def test_interleave_keeps_shares_in_every_prefix():
    merged = interleave([np.array([10, 11, 12, 13]), np.array([20, 21]), np.array([])])
    assert merged.tolist() == [10, 20, 11, 12, 21, 13]
    assert interleave([]).tolist() == []
