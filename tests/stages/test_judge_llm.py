"""judge.llm against scripted judges on a real HTTP server (tests/judge/judges.py): order
flips become ties, consistent judges give their winners, two judges their alpha, and failures,
unreadable replies and budgets end as rejected rows with their reasons."""

from __future__ import annotations

import pytest

from curate.errors import StageError
from curate.stages.base import StageContext
from curate.stages.judge_llm import JudgeLLM

from ..judge.judges import judge_server, pairs_frame


@pytest.fixture
def server():
    s = judge_server()
    yield s
    s.close()


def judge(server, *models, **options):
    return JudgeLLM({"judges": [f"openai:{m}@{server.url}" for m in models],
                     "max_retries": 0, **options})


def run(stage, df, tmp_path=None, on_error="skip"):
    return stage.apply(df, StageContext(name=stage.id, on_error=on_error,
                                        cache_dir=tmp_path))


def test_a_judge_that_always_picks_the_first_is_all_position_bias(server):
    result = run(judge(server, "first"), pairs_frame())
    judged = result.kept.filter(result.kept["judge_candidates"].is_not_null())
    assert judged.height == 4 and result.rejected.height == 0
    for comparisons in judged["judge_comparisons"].to_list():
        assert [(c["ab"], c["ba"], c["verdict"], c["consistent"]) for c in comparisons] == \
            [("a", "b", "tie", False)]
    assert judged["position_inconsistent"].to_list() == [True] * 4
    assert judged["judge_score"].to_list() == [[0.5, 0.5]] * 4
    assert judged["judge_margin"].to_list() == [0.0] * 4
    stats = result.stats
    assert stats["position_bias_rate"] == 1.0 and stats["comparisons"] == 4
    assert stats["judges"][0]["first_position_rate"] == 1.0
    assert stats["judges"][0]["requests"] == 8  # both orders of 4 pairs
    # the prompt row is not judged and passes through
    assert result.kept.filter(result.kept["id"] == "q0")["judge_score"].to_list() == [None]
    assert stats["passed_through"] == 1 and stats["rows_judged"] == 4


def test_a_consistent_judge_gives_its_winners_and_meta(server):
    import json

    result = run(judge(server, "longer"), pairs_frame())
    judged = result.kept.filter(result.kept["judge_candidates"].is_not_null()).sort("id")
    # p0: the chosen reply (candidate 0) is the longer one; s*: candidate 1 is longer
    assert judged["id"].to_list() == ["p0", "s0", "s1", "s2"]
    assert judged["judge_score"].to_list() == [[1.0, 0.0]] + [[0.0, 1.0]] * 3
    assert judged["judge_candidates"][0].to_list() == ["Blue is a colour of the sky.", "No."]
    assert not any(judged["position_inconsistent"]) and not any(judged["judge_disagreement"])
    assert result.stats["position_bias_rate"] == 0.0
    assert result.stats["judges"][0]["first_position_rate"] == 0.5
    meta = json.loads(judged["meta"][0])["judge"]
    assert meta["mode"] == "pairwise" and meta["template_version"] == "judge-v2"
    assert meta["judges"] == [{"name": "openai:longer", "model": "longer", "backend": "openai"}]


def test_two_judges_that_always_disagree(server):
    result = run(judge(server, "longer", "shorter"), pairs_frame())
    judged = result.kept.filter(result.kept["judge_candidates"].is_not_null())
    assert judged["judge_disagreement"].to_list() == [True] * 4
    assert judged["judge_score"].to_list() == [[0.5, 0.5]] * 4  # one win each
    agreement = result.stats["agreement"]
    # 4 comparisons, each judged a by one and b by the other: alpha = (1 - n) / n
    assert agreement["units"] == 4 and agreement["percent_agreement"] == 0.0
    assert agreement["alpha"] == pytest.approx(-0.75)
    majority = run(judge(server, "longer", "shorter", aggregate="majority"), pairs_frame())
    assert majority.kept["judge_score"].drop_nulls().to_list() == [[0.5, 0.5]] * 4


def test_two_judges_that_agree(server):
    result = run(judge(server, "longer", "longer"), pairs_frame())
    agreement = result.stats["agreement"]
    assert agreement["percent_agreement"] == 1.0 and agreement["alpha"] == 1.0
    assert [j["name"] for j in result.stats["judges"]] == ["openai:longer", "openai:longer#2"]


def test_pointwise_rubric_scores(server):
    result = run(judge(server, "rater", mode="pointwise", scale=10), pairs_frame(1))
    row = result.kept.filter(result.kept["id"] == "s0").to_dicts()[0]
    # rater: words of the reply (2 and 9), harmlessness 9
    assert row["judge_helpfulness"] == [2.0, 9.0] and row["judge_harmlessness"] == [9.0, 9.0]
    assert row["judge_score"] == [pytest.approx((2 + 2 + 9 + 2) / 4),
                                  pytest.approx((9 + 9 + 9 + 9) / 4)]
    assert row["judge_margin"] == pytest.approx(9 - 15 / 4)
    assert len(row["judge_votes"]) == 8 and row["judge_comparisons"] is None
    assert result.stats["agreement"] is None and result.stats["mode"] == "pointwise"


def test_checklist_asks_each_aspect_of_each_reply_alone(server):
    result = run(judge(server, "checker", mode="checklist"), pairs_frame(1))
    row = result.kept.filter(result.kept["id"] == "s0").to_dicts()[0]
    # "Short 0." (2 words): only the harm question is a yes; the long reply: every one
    assert row["judge_helpfulness"] == [0.0, 1.0] and row["judge_harmlessness"] == [1.0, 1.0]
    assert row["judge_score"] == [0.25, 1.0] and row["judge_margin"] == 0.75
    assert len(row["judge_votes"]) == 8 and row["judge_comparisons"] is None
    asked = [b["messages"][-1]["content"] for b in server.requests]
    assert len(asked) == 16  # 2 rows x 2 replies x 4 aspects, one reply per request
    assert all("Reply Yes or No." in q and q.count("\nAnswer: ") == 1 for q in asked)
    from curate.judge.checklist import QUESTIONS
    assert {q for q in QUESTIONS.values() if any(q in a for a in asked)} == {
        QUESTIONS[a] for a in ("helpfulness", "honesty", "harmlessness", "instruction_following")}
    assert result.stats["mode"] == "checklist" and "position_bias_rate" in result.stats
    assert result.stats["position_bias_rate"] is None
    # a garbage judge answers no question: every row is unparseable
    garbage = run(judge(server, "garbage", mode="checklist"), pairs_frame(1))
    assert set(garbage.rejected["drop_reason"]) == {"unparseable"}


def test_unreadable_replies_are_counted_and_rows_rejected(server):
    result = run(judge(server, "garbage"), pairs_frame(2))
    assert sorted(result.rejected["id"].to_list()) == ["p0", "s0", "s1"]
    assert set(result.rejected["drop_reason"]) == {"unparseable"}
    assert "both have merits" in result.rejected["judge_error"][0]
    assert result.stats["judges"][0]["unparseable"] == 6
    # a readable second judge makes the rows usable; the garbage is still counted
    mixed = run(judge(server, "garbage", "longer"), pairs_frame(2))
    assert mixed.rejected.height == 0
    assert [j["unparseable"] for j in mixed.stats["judges"]] == [6, 0]


def test_failed_requests_reject_rows_with_the_error_or_stop_the_run(server):
    server.faults = ["500"] * 100
    result = run(judge(server, "longer"), pairs_frame(1))
    assert set(result.rejected["drop_reason"]) == {"judge_failed"}
    assert result.rejected.height == 2 and "500" in result.rejected["judge_error"][0]
    assert result.stats["judges"][0]["failures"] >= 2
    with pytest.raises(StageError, match="judge failed for row"):
        run(judge(server, "longer"), pairs_frame(1), on_error="raise")


def test_budget_and_the_request_cache(server, tmp_path):
    stage = judge(server, "longer", max_tokens_total=150, concurrency=1)
    first = run(stage, pairs_frame(), tmp_path)
    assert 0 < first.kept["judge_score"].drop_nulls().len() < 4
    assert set(first.rejected["drop_reason"]) == {"budget_exhausted"}
    full = run(judge(server, "longer"), pairs_frame(), tmp_path)
    assert full.rejected.height == 0
    assert len(server.requests) == 8  # the rerun sent only what the budget had held back
    sent = len(server.requests)
    again = run(judge(server, "longer"), pairs_frame(), tmp_path)
    assert len(server.requests) == sent  # a rerun sends no request
    assert again.stats["cache_hits"] == 8 and again.stats["requests"] == 0
    assert again.kept.equals(full.kept)
