"""Pairs made by ``judge.pairs`` export to every pair target as other pairs do: the judge's
list and struct columns ride along without breaking the checks or the files, the files load
with `datasets`, and the card counts the exported pairs per source (judge model and template,
annotators, not recorded)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from curate.export import export
from curate.records import frame_to_records, records_to_frame
from curate.stages.judge_pairs import JudgePairs

from ..stages.judged import comparison, judged, judged_frame, pref, sft
from .loading import load_all, rows

BIG = {"name": "big", "model": "qwen2.5-7b-instruct", "backend": "openai"}


def _pairs() -> pl.DataFrame:
    """Eight judged prompts (one a preference row the judge reverses, one an order flip that
    gives no pair), a pair people decided and a plain pair from the input."""
    judged_rows = [judged(sft(f"Question {i}: what is {i} + {i}?",
                              candidates=[f"It is {2 * i}.", f"It is {2 * i + 1}.", "No idea."]),
                          scores=[9.0, 4.0 + i % 3, 2.0]) for i in range(6)]
    judged_rows.append(judged(pref("Capital of France?", "Lyon.", "Paris."),
                              comparisons=[comparison(0, 1, "b", "b")], judges=[BIG],
                              template="judge-v2"))
    judged_rows.append(judged(sft("Flip?", candidates=["x", "y"]),
                              comparisons=[comparison(0, 1, "a", "b")]))
    res = JudgePairs().apply(judged_frame(judged_rows))
    assert res.kept.height == 7 and res.rejected["drop_reason"].to_list() == [
        "position_inconsistent"]
    people = records_to_frame([
        {**pref("Best colour?", "Blue.", "Bleu?"), "id": "human-1",
         "meta": {"pair": {"source": "annotators", "annotators": ["ann1", "ann2"],
                           "judge_agreed": False}}},
        {**pref("Plain pair?", "Yes.", "No."), "id": "plain-1"}])
    return pl.concat([res.kept, people], how="diagonal_relaxed")


@pytest.fixture(scope="module")
def pairs() -> pl.DataFrame:
    return _pairs()


def _want(df: pl.DataFrame) -> dict[str, tuple]:
    return {r["id"]: (r["prompt"], r["chosen"], r["rejected"])
            for r in frame_to_records(df.select("id", "prompt", "chosen", "rejected"))}


SOURCES = ("| judge smollm2-135m-instruct (template judge-v1) | 6 |\n"
           "| judge qwen2.5-7b-instruct (template judge-v2) | 1 |\n"
           "| annotators | 1 |\n"
           "| not recorded (pairs from the input) | 1 |")


def test_dpo_files_load_and_the_card_names_each_pairs_source(pairs, tmp_path):
    assert {"judge_comparisons", "judge_score", "judge_candidates"} <= set(pairs.columns)
    res = export(pairs, tmp_path / "dpo", target="trl-dpo", test_size=2)
    assert res.skipped == {} and res.rows_out == 9
    want = _want(pairs)
    for how, ds in load_all(tmp_path / "dpo", res.counts, tmp_path / "c").items():
        assert ds["train"].column_names == ["id", "prompt", "chosen", "rejected"], how
        assert {r["id"]: (r["prompt"], r["chosen"], r["rejected"]) for r in rows(ds)} == want
    france = next(v for v in want.values() if v[0][0]["content"] == "Capital of France?")
    assert (france[1][0]["content"], france[2][0]["content"]) == ("Paris.", "Lyon.")
    card = (tmp_path / "dpo" / "README.md").read_text(encoding="utf-8")
    assert "## Preference pairs" in card and SOURCES in card


def test_kto_two_rows_per_judged_pair(pairs, tmp_path):
    res = export(pairs, tmp_path / "kto", target="trl-kto", test_size=2)
    assert res.skipped == {} and res.rows_out == 18
    want = _want(pairs)
    for how, ds in load_all(tmp_path / "kto", res.counts, tmp_path / "c").items():
        got = rows(ds)
        assert len(got) == 18, how
        for row in got:
            pair_id, side = row["id"].rsplit(":", 1)
            prompt, chosen, rejected = want[pair_id]
            assert row["prompt"] == prompt
            assert row["completion"] == (chosen if side == "chosen" else rejected)
            assert row["label"] is (side == "chosen")
    assert SOURCES in (tmp_path / "kto" / "README.md").read_text(encoding="utf-8")


def test_reward_implicit_prompt(pairs, tmp_path):
    res = export(pairs, tmp_path / "rw", target="trl-reward", test_size=2)
    want = _want(pairs)
    for how, ds in load_all(tmp_path / "rw", res.counts, tmp_path / "c").items():
        assert {r["id"]: (r["chosen"], r["rejected"]) for r in rows(ds)} == {
            i: (p + c, p + r) for i, (p, c, r) in want.items()}, how


@pytest.mark.parametrize("target,options", [("axolotl", {"task": "dpo"}),
                                            ("llama-factory", {"task": "dpo"}),
                                            ("openai", {"task": "dpo"})])
def test_other_pair_targets_take_judged_pairs(pairs, tmp_path, target, options):
    res = export(pairs, tmp_path / target, target=target, test_size=2, **options)
    assert res.skipped == {} and res.rows_out == 9
    card = (tmp_path / target / "README.md").read_text(encoding="utf-8")
    assert SOURCES in card


def test_sft_export_of_judged_rows_has_no_pair_part(tmp_path):
    """SFT rows with judge columns (e.g. judged but not paired) export to trl-sft; with no
    pair among them the card has no pair part."""
    df = judged_frame([judged(sft(f"q{i}", f"answer {i}"), scores=[7.0]) for i in range(4)])
    res = export(df, tmp_path / "sft", target="trl-sft", test_size=1)
    assert res.rows_out == 4
    assert "## Preference pairs" not in (tmp_path / "sft" / "README.md").read_text()
    meta = [json.loads(m) for m in df["meta"]]
    assert all("judge" in m for m in meta)
