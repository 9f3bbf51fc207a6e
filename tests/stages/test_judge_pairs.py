"""Stage ``judge.pairs``: best vs. worst judged candidate as chosen/rejected, every reason a
judged row gives no pair, a preference row whose judge prefers its rejected reply, and the
accounting (judged rows built by hand as curate/judge/columns.py defines them)."""

from __future__ import annotations

import polars as pl
import pytest
from pydantic import ValidationError

from curate.errors import StageError
from curate.judge import columns as J
from curate.records import frame_to_records
from curate.stages.judge_pairs import JudgePairs
from curate.stages.registry import stage_class, stages_of

from .judged import JUDGE, comparison, judged, judged_frame, pair_meta, pref, sft


def _run(rows, **options):
    df = judged_frame(rows)
    res = JudgePairs(options).apply(df)
    assert res.kept.height + res.rejected.height == df.height
    return df, res


def test_best_and_worst_candidates_become_the_pair():
    row = judged(sft("Name a prime.", candidates=["4", "7", "2", "9"]),
                 scores=[3.0, 8.5, 8.5, 3.0])
    df, res = _run([row])
    [pair] = frame_to_records(res.kept)
    assert pair["kind"] == "preference" and pair["messages"] is None
    assert pair["prompt"] == [{"role": "user", "content": "Name a prime."}]
    # best: the first of the top scores; worst: the last of the lowest
    assert pair["chosen"] == [{"role": "assistant", "content": "7"}]
    assert pair["rejected"] == [{"role": "assistant", "content": "9"}]
    assert (pair["chosen_score"], pair["rejected_score"]) == (8.5, 3.0)
    assert (pair["pair_chosen"], pair["pair_rejected"], pair["pair_margin"]) == (1, 3, 5.5)
    assert pair["id"] == df["id"][0] and pair["source"] == "gen"
    assert pair_meta(res.kept) == [{"source": "judge", "judges": [JUDGE],
                                    "template_version": "judge-v1", "mode": "pointwise",
                                    "candidates": [1, 3], "margin": 5.5}]
    assert res.stats["pairs"] == 1 and res.stats["margin"]["max"] == 5.5
    assert res.stats["sources"] == {"judge smollm2-135m-instruct (template judge-v1)": 1}


def test_a_multi_turn_prompt_keeps_its_turns():
    record = {"kind": "sft", "source": "s", "candidates": ["Yes.", "No idea"],
              "messages": [{"role": "system", "content": "Be brief."},
                           {"role": "user", "content": "Hi"},
                           {"role": "assistant", "content": "Hello"},
                           {"role": "user", "content": "Is water wet?"},
                           {"role": "assistant", "content": "Yes."}]}
    _, res = _run([judged(record, scores=[9.0, 2.0])])
    assert [t["content"] for t in res.kept["prompt"][0]] == ["Be brief.", "Hi", "Hello",
                                                             "Is water wet?"]


def test_every_reason_in_order():
    rows = [
        judged(sft("one scored", candidates=["a", "b"]), scores=[5.0, None]),  # unreadable
        judged(sft("no candidates", candidates=["a"]), scores=[5.0]),           # too few
        sft("never judged"),                                                    # too few
        judged(sft("same text", candidates=["Paris  is it.", "paris is it."]),
               scores=[9.0, 1.0]),                                              # equal texts
        judged(sft("flipped", candidates=["x", "y"]),
               comparisons=[comparison(0, 1, "a", "b")]),                       # order flip
        judged(sft("all tie", candidates=["x", "y", "z"]), scores=[6.0, 6.0, 6.0]),
        judged(sft("small", candidates=["x", "y"]), scores=[6.0, 5.5]),         # below margin
        judged(sft("clear", candidates=["x", "y"]), scores=[9.0, 2.0]),         # kept
    ]
    df, res = _run(rows, min_margin=1.0)
    by_prompt = {r["messages"][0]["content"]: r["drop_reason"]
                 for r in res.rejected.to_dicts()}
    assert by_prompt == {"one scored": "unparseable", "no candidates":
                         "too_few_candidates", "never judged": "too_few_candidates",
                         "same text": "equal_texts", "flipped": "position_inconsistent",
                         "all tie": "tie", "small": "below_margin"}
    assert [r["prompt"] for r in frame_to_records(res.kept)] == [
        [{"role": "user", "content": "clear"}]]
    # a tie keeps two distinct candidates as its would-be pair (for people to decide)
    tie = res.rejected.filter(pl.col("drop_reason") == "tie").row(0, named=True)
    assert (tie["pair_chosen"], tie["pair_rejected"], tie["pair_margin"]) == (0, 2, 0.0)
    # rejected rows stay as they came: SFT rows with the judge's columns
    assert set(res.rejected["kind"]) == {"sft"}
    assert res.rejected.drop("drop_reason", "pair_chosen", "pair_rejected", "pair_margin") \
        .equals(df.filter(~pl.col("id").is_in(res.kept["id"].to_list())))
    assert res.stats["failures"]["too_few_candidates"] == 2
    assert res.stats["failures"]["unparseable"] == 1
    assert res.stats["failures"]["below_margin"] == 1  # the tie is not also below the margin


def test_margin_threshold_is_strict_and_defaults_to_any_difference():
    rows = [judged(sft(f"p{i}", candidates=["x", "y"]), scores=[5.0 + d, 5.0])
            for i, d in enumerate((0.5, 1.0, 1.5))]
    _, res = _run(rows)
    assert res.kept.height == 3
    _, res = _run(rows, min_margin=1.0)
    assert sorted(res.kept["pair_margin"].to_list()) == [1.5]
    assert res.rejected["drop_reason"].to_list() == ["below_margin"] * 2


def test_preference_row_the_judge_reverses_is_swapped():
    multi = [("assistant", "Let me check."), ("assistant", "It is 4.")]
    agrees = pref("2+2?", "It is 4.", "It is 5.")
    reverses = {**pref("3+3?", "It is 7.", "It is 6.")}
    reverses_multi = {**pref("2*2?", "x", "It is 5."),
                      "chosen": [{"role": r, "content": c} for r, c in multi]}
    rows = [judged(agrees, comparisons=[comparison(0, 1, "a", "a")]),
            judged(reverses, comparisons=[comparison(0, 1, "b", "b")]),
            judged(reverses_multi, candidates=["Let me check.\nIt is 4.", "It is 5."],
                   comparisons=[comparison(0, 1, "b", "b")])]
    _, res = _run(rows)
    kept = frame_to_records(res.kept)
    assert [m["swapped"] for m in pair_meta(res.kept)] == [False, True, True]
    assert [k["chosen"][-1]["content"] for k in kept] == ["It is 4.", "It is 6.", "It is 5."]
    assert [k["rejected"][-1]["content"] for k in kept] == ["It is 5.", "It is 7.", "It is 4."]
    assert kept[2]["rejected"] == [{"role": r, "content": c} for r, c in multi]  # turns kept
    assert [(k["chosen_score"], k["rejected_score"]) for k in kept] == [(1.0, 0.0)] * 3
    assert pair_meta(res.kept)[1]["candidates"] == [1, 0]
    assert res.stats["swapped"] == 2


def test_a_judge_that_always_prefers_the_first_position_gives_no_pair():
    """Every verdict flips with the order (A/B: a, B/A: b): every row is rejected
    position_inconsistent, two candidates or four."""
    always_first = lambda k: [comparison(a, b, "a", "b") for a in range(k)  # noqa: E731
                              for b in range(a + 1, k)]
    rows = [judged(sft(f"p{i}", candidates=[f"c{j}" for j in range(k)]),
                   comparisons=always_first(k)) for i, k in enumerate((2, 3, 4, 2))]
    _, res = _run(rows)
    assert res.kept.height == 0
    assert res.rejected["drop_reason"].to_list() == ["position_inconsistent"] * 4


def test_only_flips_between_best_and_worst_block_the_pair():
    """Of three candidates, a flip between the two better ones does not make the best-worst
    verdict order-dependent; a flip between best and worst does."""
    elsewhere = [comparison(0, 1, "a", "b"), comparison(0, 2, "a", "a"),
                 comparison(1, 2, "a", "a")]
    on_pair = [comparison(0, 1, "a", "a"), comparison(0, 2, "a", "b"),
               comparison(1, 2, "a", "a")]
    _, res = _run([judged(sft("elsewhere", candidates=["x", "y", "z"]), comparisons=elsewhere),
                   judged(sft("on pair", candidates=["x", "y", "z"]), comparisons=on_pair)])
    assert [r["prompt"] for r in frame_to_records(res.kept)] == [
        [{"role": "user", "content": "elsewhere"}]]
    assert pair_meta(res.kept)[0]["candidates"] == [0, 2]
    assert pair_meta(res.kept)[0]["margin"] == pytest.approx(0.75)  # 0.75 - 0.0
    assert res.rejected["drop_reason"].to_list() == ["position_inconsistent"]


def test_judges_and_template_are_named_per_pair():
    judges = [JUDGE, {"name": "big", "model": "qwen2.5-7b", "backend": "openai"}]
    rows = [judged(sft("a", candidates=["x", "y"]), scores=[7.0, 3.0], judges=judges,
                   template="judge-v2"),
            judged(sft("b", candidates=["x", "y"]), scores=[7.0, 3.0])]
    _, res = _run(rows)
    assert res.stats["sources"] == {
        "judge qwen2.5-7b, smollm2-135m-instruct (template judge-v2)": 1,
        "judge smollm2-135m-instruct (template judge-v1)": 1}


def test_options():
    assert JudgePairs({"pairs": "best-worst"}).options.pairs == "best_worst"
    with pytest.raises(ValidationError):
        JudgePairs({"pairs": "some"})
    with pytest.raises(ValidationError):
        JudgePairs({"min_margin": -1})


def test_all_pairs_above_the_margin_are_made_and_counted():
    from curate.records import content_hash

    rows = [
        # 4 candidates: 6 pairs, of which 5 above margin 1 (9-8.5 is not), "7" == " 7 " none
        judged(sft("four", candidates=["a", "b", "c", "d"]), scores=[9.0, 8.5, 5.0, 2.0]),
        judged(sft("equal ends", candidates=["x", "y", "X"]), scores=[9.0, 5.0, 1.0]),
        judged(sft("small", candidates=["x", "y"]), scores=[6.0, 5.5]),
        judged(sft("all tie", candidates=["x", "y", "z"]), scores=[6.0, 6.0, 6.0]),
    ]
    res = JudgePairs({"pairs": "all", "min_margin": 1.0}).apply(judged_frame(rows))
    made = res.kept.select("id", "pair_chosen", "pair_rejected", "pair_margin").rows()
    four, ends = (judged_frame(rows)["id"][i] for i in (0, 1))
    assert made == [
        (four, 0, 3, 7.0), (content_hash("pair", four, 1, 3), 1, 3, 6.5),
        (content_hash("pair", four, 0, 2), 0, 2, 4.0),
        (content_hash("pair", four, 1, 2), 1, 2, 3.5),
        (content_hash("pair", four, 2, 3), 2, 3, 3.0),
        # best and worst read the same, but the other pairs are usable
        (ends, 0, 1, 4.0), (content_hash("pair", ends, 1, 2), 1, 2, 4.0)]
    assert frame_to_records(res.kept)[1]["chosen"] == [{"role": "assistant", "content": "b"}]
    assert res.kept["chosen_score"].to_list()[1] == 8.5
    assert dict(zip(res.rejected["messages"].list.first().struct.field("content"),
                    res.rejected["drop_reason"])) == {"small": "below_margin", "all tie": "tie"}
    assert "pair_all" not in res.kept.columns and "pair_all" not in res.rejected.columns
    # 4 rows in, 7 pairs out, 2 rejected: 5 rows made
    assert res.added == 5 and res.kept.height + res.rejected.height == 4 + res.added
    assert res.kept["id"].n_unique() == res.kept.height


def test_all_pairs_skip_a_pair_whose_verdict_flipped():
    row = judged(sft("three", candidates=["x", "y", "z"]),
                 comparisons=[comparison(0, 1, "a", "b"), comparison(0, 2, "a", "a"),
                              comparison(1, 2, "a", "a")])
    res = JudgePairs({"pairs": "all"}).apply(judged_frame([row]))
    # 0 beats 2, 1 beats 2, 0-1 flipped: no pair between 0 and 1
    assert sorted(res.kept.select("pair_chosen", "pair_rejected").rows()) == [(0, 2), (1, 2)]


def test_no_flags_of_its_own_on_curate_filter():
    assert stage_class("judge.pairs") is JudgePairs
    assert JudgePairs not in stages_of("filter")
    assert JudgePairs().columns_read() == (J.CANDIDATES, J.SCORE)


def test_a_score_column_of_the_wrong_type_is_a_clear_error():
    df = judged_frame([judged(sft("a", candidates=["x", "y"]), scores=[7.0, 3.0])])
    df = df.with_columns(pl.col(J.SCORE).cast(pl.List(pl.String)))
    with pytest.raises(StageError, match="judge_score is List\\(String\\), expected "
                                         "List\\(Float64\\)"):
        JudgePairs().apply(df)


def test_empty_input():
    res = JudgePairs().apply(judged_frame([]).head(0))
    assert res.kept.height == 0 and res.stats["pairs"] == 0
