from __future__ import annotations

import pytest

from curate.judge.combine import (candidate_pairs, order_checked, pair_verdicts, pairwise_row,
                                  pointwise_row)
from curate.errors import CurateError
from curate.judge.specs import parse_judges


def comp(judge, a, b, ab, ba):
    verdict, consistent = order_checked(ab, ba)
    return {"judge": judge, "a": a, "b": b, "ab": ab, "ba": ba, "verdict": verdict,
            "consistent": consistent}


def test_pairs_all_up_to_k_then_a_seeded_ring():
    assert len(candidate_pairs(4, max_pairs_k=4, seed=1)) == 6
    ring = candidate_pairs(6, max_pairs_k=4, seed=1)
    assert len(ring) == 6 and ring == candidate_pairs(6, max_pairs_k=4, seed=1)
    assert all(sum(i in p for p in ring) == 2 for i in range(6))  # two neighbours each


def test_win_rates_majority_and_flags():
    comps = [comp("j1", 0, 1, "a", "a"), comp("j1", 0, 2, "a", "b"),
             comp("j1", 1, 2, "b", "b"), comp("j2", 0, 1, "b", "b")]
    row = pairwise_row(3, comps, "mean")
    # 0: win, tie (flip), loss(j2) -> 1.5/3; 1: loss, loss, win(j2) -> 1/3; 2: tie, win -> 1.5/2
    assert row["scores"] == pytest.approx([0.5, 1 / 3, 0.75])
    assert row["inconsistent"] and row["disagreement"]
    assert pair_verdicts(comps) == {(0, 1): "tie", (0, 2): "tie", (1, 2): "b"}
    assert pairwise_row(3, comps, "majority")["scores"] == [0.5, 0.25, 0.75]
    one_side = comp("j1", 0, 1, None, "b")
    assert (one_side["verdict"], one_side["consistent"]) == (None, None)
    # an unchecked one-sided answer is no verdict: candidate 1 does not win by it
    assert pairwise_row(2, [one_side], "mean")["scores"] == [None, None]


def test_pointwise_mean_median_and_disagreement():
    votes = [{"judge": j, "candidate": i, "aspect": "h", "score": s}
             for j, scores in (("x", (2, 8)), ("y", (6, 4)), ("z", (3, 9)))
             for i, s in enumerate(scores)]
    row = pointwise_row(2, votes, ["x", "y", "z"], ["h"], "mean")
    assert row["scores"] == pytest.approx([11 / 3, 7.0]) and row["disagreement"]
    assert pointwise_row(2, votes, ["x", "y", "z"], ["h"], "majority")["scores"] == [3.0, 8.0]


def test_judge_specs():
    names = [j.name for j in parse_judges(["local", "local:/m/x", "openai:m@http://h/v1",
                                           "openai:m@http://other/v1"])]
    assert names == ["local:smollm2-135m-instruct", "local:/m/x", "openai:m", "openai:m#2"]
    with pytest.raises(CurateError, match="expected local, local:PATH_OR_NAME"):
        parse_judges(["gpt4"])
