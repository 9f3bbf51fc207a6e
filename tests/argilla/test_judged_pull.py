"""Judge-human agreement, the people's pairs and the merge, on a pulled frame built without a
server (tests/argilla/test_judged.py runs the same loop through the real Argilla)."""

import json

import polars as pl
import pytest

from curate.argilla.judged import hard_cases
from curate.argilla.judged_pull import COMBINED, judge_human, merge_pairs
from curate.errors import CurateError
from curate.report.label import section

from .judged_run import make_judged_run

# the people's resolved verdicts in the pushed records' terms (chosen = the judges' pick);
# r3's two annotators split, so it stays unanswered
PEOPLE = {"p2": "chosen", "p3": "rejected", "r1": "tie", "r2": "chosen", "r3": None}


def _pulled(run):
    items = hard_cases(run, hard_margin=0.8)
    return items.with_columns(
        label_preferred=pl.Series([PEOPLE[i] for i in items.get_column("id")]),
        label_annotators=pl.Series([["ann1", "ann2"]] * items.height))


@pytest.fixture
def run(tmp_path):
    return make_judged_run(tmp_path / "judged")


def test_agreement_per_judge_by_hand(run):
    summary, _ = judge_human(_pulled(run))
    assert (summary["items"], summary["answered"], summary["unanswered"]) == (5, 4, 1)
    j1, j2, both = (summary["judges"][k] for k in ("j1", "j2", COMBINED))
    # j1 units: p2 [chosen, chosen], p3 [rejected, chosen], r1 [tie, tie], r2 [chosen, tie]
    # n_chosen 4, n_rejected 1, n_tie 3 (n 8); D_o = 4/8, D_e = 2(4*1 + 4*3 + 1*3)/56 = 38/56
    assert j1["units"] == 4 and j1["percent_agreement"] == pytest.approx(0.5)
    assert j1["alpha"] == pytest.approx(1 - 0.5 / (38 / 56))
    assert j1["confusion"]["rejected/chosen"] == 1 and j1["confusion"]["chosen/tie"] == 1
    # j2: p2 [chosen, rejected], p3 [rejected, chosen], r1 [tie, tie], r2 [chosen, tie]
    # n_c 3, n_r 2, n_t 3; D_o = 6/8, D_e = 2(6 + 9 + 6)/56 = 42/56 -> alpha 0
    assert j2["percent_agreement"] == pytest.approx(0.25) and j2["alpha"] == pytest.approx(0.0)
    # together: p2 tie, p3 chosen, r1 tie, r2 tie; n_c 3, n_r 1, n_t 4: D_o 6/8, D_e 38/56
    assert both["percent_agreement"] == pytest.approx(0.25)
    assert both["alpha"] == pytest.approx(1 - 0.75 / (38 / 56))
    assert summary["judges_agreed"] == 1  # r1: everyone says tie


def test_final_pairs_follow_the_people(run):
    summary, pairs = judge_human(_pulled(run))
    assert summary["pairs"] == 3 and summary["ties"] == 1  # r1's tie makes no pair
    got = {r["id"]: (r["chosen"][0]["content"], r["rejected"][0]["content"],
                     json.loads(r["meta"])["pair"]) for r in pairs.iter_rows(named=True)}
    assert set(got) == {"p2", "p3", "r2"}
    assert got["p3"][:2] == ("hello", "hi")  # people overruled the judges: swapped
    assert got["p2"][:2] == ("Paris.", "It is Paris, of course.")
    assert got["p3"][2] == {"source": "annotators", "annotators": ["ann1", "ann2"],
                            "judge_agreed": False, "candidates": [1, 0]}
    assert set(pairs.get_column("kind")) == {"preference"}
    assert json.loads(pairs.filter(pl.col("id") == "r2")["meta"][0])["judge"]["mode"] \
        == "pairwise"  # the row's other meta is kept


def test_merge_replaces_answered_items(run):
    _, pairs = judge_human(_pulled(run))
    merged, stats = merge_pairs(run, _pulled(run), pairs)
    sources = {r["id"]: json.loads(r["meta"])["pair"]["source"]
               for r in merged.iter_rows(named=True)}
    # p1 stays the judges'; p2, p3 answered -> people's; r2 added; r1 (tie) adds nothing
    assert sources == {"p1": "judge", "p2": "annotators", "p3": "annotators",
                       "r2": "annotators"}
    assert stats == {"run": str(run), "records": 4, "from_judges": 1, "from_annotators": 3,
                     "replaced": 2, "added": 1, "not_in_run": 0}
    assert merged.get_column("id").n_unique() == merged.height


def test_merge_refuses_another_run(run, tmp_path):
    other = _pulled(run).with_columns(pl.col("id") + "-x")
    _, pairs = judge_human(other)
    with pytest.raises(CurateError, match="none of the 5 pulled items comes from this run"):
        merge_pairs(run, other, pairs)


def test_report_shows_judge_human_table(run):
    summary, _ = judge_human(_pulled(run))
    stage = {"stats": {"dataset": "d", "task": "preference", "counts": {}, "agreement": {},
                       "judge_human": summary}}
    html = section(run, stage)
    assert "Judges against people" in html and "<td>j1</td>" in html
    assert "0.263" in html  # j1's alpha, 10/38
