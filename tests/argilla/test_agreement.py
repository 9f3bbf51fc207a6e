import pytest

from curate.argilla.agreement import (agreement, borda, krippendorff_alpha, majority, mean,
                                      median, percent_agreement)
from curate.errors import CurateError

N = None
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the 4 coders x 12 units example.
CODERS = [[1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
          [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
          [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
          [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N]]
UNITS = [[v for v in unit if v is not None] for unit in zip(*CODERS)]


@pytest.mark.parametrize("level,expected", [("nominal", 0.743), ("ordinal", 0.815),
                                            ("interval", 0.849)])
def test_alpha_matches_krippendorffs_published_example(level, expected):
    assert round(krippendorff_alpha(UNITS, level), 3) == expected


def test_nominal_by_hand():
    # pairs: o_aa=2, o_bb=2, o_ab=o_ba=1, n=6: D_o=2/6, D_e=(3*3*2)/30 -> alpha = 1 - (1/3)/0.6
    units = [["a", "a"], ["a", "b"], ["b", "b"]]
    assert krippendorff_alpha(units, "nominal") == pytest.approx(4 / 9)
    assert percent_agreement(units) == pytest.approx(2 / 3)


def test_ordinal_and_interval_by_hand():
    # ratings [5,4], [2,1], [3,4]: interval D_o = 1, D_e = 130/30 -> 10/13;
    # ordinal D_o = 11/6, D_e = 204/30 -> 1 - 11/40.8
    units = [[5, 4], [2, 1], [3, 4]]
    assert krippendorff_alpha(units, "interval") == pytest.approx(10 / 13)
    assert krippendorff_alpha(units, "ordinal") == pytest.approx(1 - 11 / 40.8)
    assert percent_agreement(units) == 0.0


def test_three_annotators_and_unpairable_units():
    units = [["x", "x", "y"], ["x"], []]
    assert percent_agreement(units) == pytest.approx(2 / 6)
    assert krippendorff_alpha([["x", "x"], ["x", "x"]]) is None  # one value: undefined
    assert agreement([["x"]], "nominal") == {"level": "nominal", "units": 0, "values": 0,
                                             "percent_agreement": None, "alpha": None}
    with pytest.raises(CurateError, match="unknown level"):
        krippendorff_alpha(units, "ratio")


def test_resolution():
    assert majority(["a", "b", "a"]) == "a"
    assert majority(["a", "b"]) is None
    assert majority([]) is None
    assert mean([5, 4]) == 4.5 and median([1, 2, 5]) == 2.0
    # x: 2+0+2 = 4 points... with 3 options: x ranks 1,3,1 -> 2+0+2; y ranks 2,1,3 -> 1+2+0;
    # z ranks 3,2,2 -> 0+1+1
    rankings = [[("x", 1), ("y", 2), ("z", 3)], [("y", 1), ("z", 2), ("x", 3)],
                [("x", 1), ("z", 2), ("y", 3)]]
    assert borda(rankings) == ["x", "y", "z"]
    assert borda([]) is None
