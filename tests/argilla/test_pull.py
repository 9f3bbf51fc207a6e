"""Push, answers from two annotators through the REST API, pull: values checked by hand."""

import json

import polars as pl
import pytest

from curate.argilla.pull import pull_records, review_pairs, write_pull
from curate.argilla.push import a_is_for, push_records
from curate.records import records_to_frame


def _sft(i, prompt, reply):
    return {"id": f"s{i}", "kind": "sft", "source": "test", "meta": {"n": i},
            "messages": [{"role": "user", "content": prompt},
                         {"role": "assistant", "content": reply}]}


@pytest.fixture(scope="module")
def sft_pulled(owner, annotators, answer, record_ids, tmp_path_factory):
    frame = records_to_frame([_sft(1, "Name a prime.", "7 is prime."),
                              _sft(2, "Name a prime.", "9 is prime."),
                              _sft(3, "Capital of France?", "Paris."),
                              _sft(4, "Say hi.", "hi")])
    frame = frame.with_columns(toxicity=pl.Series([0.01, 0.02, 0.9, 0.1]))
    summary = push_records(owner, frame, dataset="sft-review-test", annotators=2)
    assert summary["records"] == 4 and summary["task"] == "sft-review"
    ids = record_ids(owner, "sft-review-test")
    a1, a2 = annotators["ann1"], annotators["ann2"]
    answer(a1, ids["s1"], {"quality": 5, "verdict": "accept"})
    answer(a2, ids["s1"], {"quality": 4, "verdict": "accept"})
    answer(a1, ids["s2"], {"quality": 2, "verdict": "reject", "correction": "7 is prime."})
    answer(a2, ids["s2"], {"quality": 1, "verdict": "reject", "correction": "7 is prime."})
    answer(a1, ids["s3"], {"quality": 3, "verdict": "accept"})
    answer(a2, ids["s3"], {"quality": 4, "verdict": "reject"})
    answer(a1, ids["s4"], {"quality": 1}, status="discarded")
    # re-pushing the same records updates them: still 4 records, answers kept
    again = push_records(owner, frame, dataset="sft-review-test", annotators=2)
    assert again["dataset_id"] == summary["dataset_id"]
    out = tmp_path_factory.mktemp("pull")
    write_pull(owner, dataset="sft-review-test", out=out)
    return out


def test_sft_review_round_trip(sft_pulled):
    df = pl.read_parquet(sft_pulled / "data.parquet").sort("id")
    assert df.get_column("id").to_list() == ["s1", "s2", "s3", "s4"]
    assert df.get_column("label_quality_responses").to_list() == [[5, 4], [2, 1], [3, 4], []]
    assert df.get_column("label_quality").to_list() == [4.5, 1.5, 3.5, None]
    assert df.get_column("label_quality_median").to_list() == [4.5, 1.5, 3.5, None]
    assert df.get_column("label_verdict").to_list() == ["accept", "reject", None, None]
    assert df.get_column("label_annotators").to_list()[0] == ["ann1", "ann2"]
    assert df.get_column("label_status").to_list() == ["completed", "completed", "completed",
                                                       "discarded"]
    # the correction goes into a copy of the messages; the input column is untouched
    s2 = df.row(1, named=True)
    assert s2["messages"][-1]["content"] == "9 is prime."
    assert s2["label_messages"][-1]["content"] == "7 is prime."
    assert json.loads(s2["meta"]) == {"n": 2} and s2["source"] == "test"


def test_sft_agreement_in_manifest(sft_pulled):
    manifest = json.loads((sft_pulled / "manifest.json").read_text())
    label = manifest["label"]
    assert label["counts"] == {"records": 4, "completed": 3, "pending": 0, "discarded": 1}
    verdict, quality = label["agreement"]["verdict"], label["agreement"]["quality"]
    # verdict units [accept, accept], [reject, reject], [accept, reject]
    assert verdict["percent_agreement"] == pytest.approx(2 / 3)
    assert verdict["alpha"] == pytest.approx(4 / 9)
    # quality units [5, 4], [2, 1], [3, 4], ordinal (see test_agreement)
    assert quality["level"] == "ordinal" and quality["units"] == 3
    assert quality["alpha"] == pytest.approx(1 - 11 / 40.8)
    assert "agreement" in (sft_pulled / "report.html").read_text()


def test_sft_reviews_become_pairs(sft_pulled):
    pairs = pl.read_parquet(sft_pulled / "pairs.parquet")
    got = sorted((json.loads(m)["why"], c[0]["content"], r[0]["content"])
                 for m, c, r in pairs.select("meta", "chosen", "rejected").iter_rows())
    # s2 corrected; s1 (4.5) beats s2 (1.5) on the same prompt
    assert got == [("correction", "7 is prime.", "9 is prime."),
                   ("ranking", "7 is prime.", "9 is prime.")]
    assert set(pairs.get_column("kind")) == {"preference"}
    assert review_pairs(pl.read_parquet(sft_pulled / "data.parquet").head(0)).height == 0


def _pair(i, chosen_score, rejected_score):
    return {"id": f"p{i}", "kind": "preference", "source": "test", "meta": {},
            "prompt": [{"role": "user", "content": f"question {i}"}],
            "chosen": [{"role": "assistant", "content": f"good answer {i}"}],
            "rejected": [{"role": "assistant", "content": f"bad answer {i}"}],
            "chosen_score": chosen_score, "rejected_score": rejected_score}


def test_preference_round_trip(owner, annotators, answer, record_ids):
    frame = records_to_frame([_pair(1, 0.9, 0.1), _pair(2, 0.5, 0.5), _pair(3, None, None)])
    push_records(owner, frame, dataset="pref-test", annotators=2, seed=3)
    ids = record_ids(owner, "pref-test")
    ds = owner.dataset("pref-test")
    recs = {r["external_id"]: r for r in owner.records(ds["id"], include="responses,suggestions")}
    a_is = {pid: a_is_for(pid, 3) for pid in ids}
    assert {k: r["metadata"]["a_is"] for k, r in recs.items()} == a_is
    p1 = recs["p1"]
    shown_a = p1["fields"]["response_a"]
    assert shown_a == ("good answer 1" if a_is["p1"] == "chosen" else "bad answer 1")
    # the model scores pre-fill a suggestion pointing at the chosen reply
    assert [s["value"] for s in p1["suggestions"]] == ["a" if a_is["p1"] == "chosen" else "b"]
    chosen_letter = "a" if a_is["p1"] == "chosen" else "b"
    a1, a2 = annotators["ann1"], annotators["ann2"]
    answer(a1, ids["p1"], {"preference": chosen_letter})
    answer(a2, ids["p1"], {"preference": chosen_letter, "rationale": "more helpful"})
    answer(a1, ids["p2"], {"preference": "a"})
    answer(a2, ids["p2"], {"preference": "b"})
    answer(a1, ids["p3"], {"preference": "tie"})
    df, summary = pull_records(owner, dataset="pref-test")
    df = df.sort("id")
    assert df.get_column("label_preferred").to_list() == ["chosen", None, "tie"]
    assert df.get_column("label_disagreement").to_list() == [False, True, False]
    assert df.get_column("label_rationale").to_list() == ["more helpful", None, None]
    assert summary["counts"] == {"records": 3, "completed": 2, "pending": 1, "discarded": 0}
    assert summary["disagreements"] == 1
    # units [x, x], [a, b] (p3 has one answer): n_x=3 ... percent 1/2; alpha by hand:
    # x = a: n_a=3, n_b=1, o_aa=2, o_ab=o_ba=1: D_o=2/4, D_e=2*3*1/12 -> 1 - 0.5/0.5 = 0
    pref = summary["agreement"]["preference"]
    assert pref["percent_agreement"] == pytest.approx(0.5)
    assert pref["alpha"] == pytest.approx(0.0)
