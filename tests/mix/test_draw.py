"""The mixture draw on compact arrays: quotas as counts and shares, records and tokens,
order by score, repeat."""

from __future__ import annotations

import numpy as np
import pytest

from curate.mix import draw_mixture, quota_problem


def test_record_quotas_take_exactly_the_count_or_share_in_order():
    groups = ["a"] * 10 + ["b"] * 7 + ["c"] * 3
    order = np.arange(20)[::-1].astype(float)  # later rows first
    draw = draw_mixture(groups, np.ones(20), {"a": 4, "b": 0.5}, order=order)
    assert draw.times[:10].tolist() == [0] * 6 + [1] * 4  # the 4 last of a
    assert draw.times[10:17].tolist() == [0, 0, 0, 1, 1, 1, 1]  # round(3.5) = 4 of b
    assert draw.times[17:].tolist() == [1, 1, 1]  # c has no quota: kept whole
    assert draw.per_input["a"] == {"quota": 4, "target": 4, "available": 10, "rows": 10,
                                   "drawn": 4, "copies": 0, "units": 4}
    assert draw.per_input["b"]["target"] == 4


def test_token_quota_is_met_within_one_record():
    rng = np.random.default_rng(0)
    weights = rng.integers(1, 500, 300)
    groups = ["x"] * 300
    order = rng.permutation(300).astype(float)
    for quota in (1, 499, 5000, 31_337, int(weights.sum()) - 1):
        draw = draw_mixture(groups, weights, {"x": quota}, order=order, unit="tokens")
        taken = np.flatnonzero(draw.times)
        got = int(weights[taken].sum())
        last = taken[np.argmax(order[taken])]  # the last row taken in draw order
        assert got >= quota and got - weights[last] < quota, quota
        assert draw.per_input["x"]["units"] == got


def test_share_of_tokens_is_of_the_inputs_own_tokens():
    weights = np.array([10, 20, 30, 40, 100, 100])
    draw = draw_mixture(["a"] * 4 + ["b"] * 2, weights, {"a": 0.5, "b": 0.5},
                        order=np.arange(6.0), unit="tokens")
    assert draw.times.tolist() == [1, 1, 1, 0, 1, 0]  # a: 60 >= 50; b: 100 >= 100
    assert draw.per_input["a"]["target"] == 50.0


def test_repeat_takes_whole_passes_then_the_rest_in_the_same_order():
    draw = draw_mixture(["a"] * 3, np.ones(3), {"a": 8}, order=np.array([2.0, 0, 1]),
                        repeat=True)
    # order: row 1, row 2, row 0; 8 = two passes + 2 more
    assert draw.times.tolist() == [2, 3, 3]
    assert draw.copies == 5 and draw.per_input["a"]["units"] == 8


def test_without_repeat_a_short_input_is_taken_whole():
    draw = draw_mixture(["a"] * 3, np.array([5, 5, 5]), {"a": 100}, order=np.arange(3.0),
                        unit="tokens")
    assert draw.times.tolist() == [1, 1, 1] and draw.per_input["a"]["units"] == 15


def test_zero_quota_takes_nothing_and_unknown_inputs_are_left_alone():
    draw = draw_mixture(["a", "b"], np.ones(2), {"a": 0, "zzz": 5}, order=np.zeros(2))
    assert draw.times.tolist() == [0, 1]
    assert draw.per_input["zzz"]["rows"] == 0


@pytest.mark.parametrize("value,repeat,problem", [
    (True, False, "a quota is a count (an int) or a share (a float), not True"),
    ("10", False, "a quota is a count (an int) or a share (a float), not '10'"),
    (-1, False, "a quota is 0 or more, not -1"),
    (1.5, False, "a share above 1 (1.5) takes rows more than once: set repeat: true"),
    (1.5, True, None), (0.0, False, None), (10, False, None)])
def test_quota_problems(value, repeat, problem):
    assert quota_problem(value, repeat=repeat) == problem
