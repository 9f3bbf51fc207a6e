"""`label push --from-judge` and `label pull --judged`: the selection of hard cases (no
server), then the loop on the real local Argilla: suggestions an annotator sees over REST,
answers from two annotators, agreement and pairs on pull, an idempotent re-push."""

import json

import polars as pl
import pytest
from click.testing import CliRunner

from curate.argilla.judged import (JudgeSuggestions, combined_verdict, hard_cases,
                                   judge_verdicts, read_judged_run)
from curate.argilla.push import a_is_for, build_items
from curate.argilla.settings import task_settings
from curate.cli import cli
from curate.errors import CurateError
from curate.records import clean_turns

from .judged_run import make_judged_run

SEED = 5
# the people's verdicts in candidate terms (chosen = the judges' pick i of the pair (i, j));
# r3's annotators split
ANSWERS = {"p2": ("chosen", "chosen"), "p3": ("rejected", "rejected"), "r1": ("tie", "tie"),
           "r2": ("chosen", "chosen"), "r3": ("chosen", "rejected")}


@pytest.fixture
def run(tmp_path):
    return make_judged_run(tmp_path / "judged")


def test_hard_cases_are_selected_with_their_pair(run):
    items = hard_cases(run)
    got = {r["id"]: (r["judge_hard_reason"], r["judge_pair"], r["chosen"][0]["content"],
                     r["rejected"][0]["content"]) for r in items.iter_rows(named=True)}
    # ties, order flips and margins under min_margin; a pair whose judges disagree; not p1
    # (a clear pair), r4 (one candidate) nor r5 (equal texts)
    assert got == {"r1": ("tie", [0, 1], "4", "four"),
                   "r2": ("position_inconsistent", [0, 1], "Blue.", "Green."),
                   "r3": ("below_margin", [0, 1], "[1, 3]", "[1,3]"),
                   "p2": ("judge_disagreement", [0, 2], "Paris.", "It is Paris, of course.")}
    # the prompt of an SFT row is its messages without the reply; of a preference row its prompt
    prompts = {r["id"]: clean_turns(r["prompt"]) for r in items.iter_rows(named=True)}
    assert prompts["r1"] == [{"role": "user", "content": "2+2?"}]
    assert prompts["r3"] == [{"role": "user", "content": "Sort [3,1]."}]
    assert set(items.get_column("kind")) == {"preference"}
    # --hard-margin adds the clear-but-close pair p3 (margin 0.75), never p1 (1.0)
    assert set(hard_cases(run, hard_margin=0.8).get_column("id")) == \
        {"r1", "r2", "r3", "p2", "p3"}


def test_verdicts_undo_the_order(run):
    items = {r["id"]: r for r in hard_cases(run).iter_rows(named=True)}
    flips = judge_verdicts(items["r2"], 0, 1)
    assert flips["j1"] == {"verdict": "tie", "orders": ["chosen", "rejected"]}
    assert combined_verdict(flips) == ("tie", 0.0)  # no order-specific verdict says tie
    split = judge_verdicts(items["p2"], 0, 2)
    assert {k: v["verdict"] for k, v in split.items()} == {"j1": "chosen", "j2": "rejected"}
    assert combined_verdict(split) == ("tie", 0.0)
    # the same pair asked the other way round flips each judge's verdict
    assert judge_verdicts(items["p2"], 2, 0)["j1"]["verdict"] == "rejected"


def test_items_carry_the_suggestion_and_the_judges_field(run):
    frame = hard_cases(run, hard_margin=0.8)
    ext = JudgeSuggestions(run)
    settings = task_settings("preference", frame)
    items = {i["external_id"]: i for i in build_items(frame, settings, {"preference": "q1"},
                                                      seed=SEED, extension=ext)}
    p3 = items["p3"]
    a_is = a_is_for("p3", SEED)
    assert p3["suggestions"] == [{"question_id": "q1", "type": "model",
                                  "value": "a" if a_is == "chosen" else "b", "score": 1.0,
                                  "agent": "judge j1 j2"}]
    assert "- j1: A" in p3["fields"]["judges"] if a_is == "chosen" else \
        "- j1: B" in p3["fields"]["judges"]
    stored = json.loads(p3["metadata"]["curate_record"])
    assert stored["judge_pair"] == [0, 1] and stored["judge_candidates"] == ["hi", "hello", "hey"]
    assert items["r2"]["suggestions"][0]["value"] == "tie"


def test_not_a_judged_run_is_a_clear_error(tmp_path, run):
    with pytest.raises(CurateError, match="no readable manifest.json"):
        read_judged_run(tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["stages"] = manifest["stages"][:2]
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CurateError, match="no finished judge.pairs stage"):
        read_judged_run(run)


# the loop on the real server ----------------------------------------------------------------

@pytest.fixture(scope="module")
def judged_loop(argilla_stack, owner, annotators, answer, record_ids, tmp_path_factory):
    run = make_judged_run(tmp_path_factory.mktemp("judged") / "run")
    env = {"ARGILLA_API_URL": argilla_stack.api_url, "ARGILLA_API_KEY": argilla_stack.api_key}
    push = ["label", "push", "--from-judge", str(run), "--hard-margin", "0.8", "--dataset",
            "judged-test", "--annotators", "2", "--seed", str(SEED)]
    pushed = CliRunner().invoke(cli, push, env=env)
    assert pushed.exit_code == 0, pushed.output
    ids = record_ids(owner, "judged-test")
    for rid, verdicts in ANSWERS.items():
        for user, verdict in zip(("ann1", "ann2"), verdicts):
            letter = "tie" if verdict == "tie" else \
                "a" if verdict == a_is_for(rid, SEED) else "b"
            answer(annotators[user], ids[rid], {"preference": letter})
    repushed = CliRunner().invoke(cli, push, env=env)
    assert repushed.exit_code == 0, repushed.output
    out = tmp_path_factory.mktemp("pulled") / "out"
    pulled = CliRunner().invoke(cli, ["label", "pull", "--dataset", "judged-test", "-o",
                                      str(out), "--judged", str(run)], env=env)
    assert pulled.exit_code == 0, pulled.output
    return {"run": run, "out": out, "ids": ids, "push": pushed.output,
            "pull": pulled.output}


def test_push_reports_the_hard_cases(judged_loop):
    assert "pushed 5 preference records to judged-test" in judged_loop["push"]
    for part in ("tie 1", "position_inconsistent 1", "below_margin 1",
                 "judge_disagreement 1", "low_margin 1"):
        assert part in judged_loop["push"]


def test_annotator_sees_the_judges_suggestion(argilla_stack, owner, annotators, judged_loop):
    ds = owner.dataset("judged-test")
    resp = annotators["ann1"].post(f"/api/v1/me/datasets/{ds['id']}/records/search",
                                   params={"include": "suggestions", "limit": 50}, json={})
    assert resp.status_code == 200, resp.text
    seen = {r["record"]["external_id"]: r["record"] for r in resp.json()["items"]}
    assert set(seen) == set(ANSWERS)
    p3 = seen["p3"]
    (sug,) = p3["suggestions"]
    a_is = a_is_for("p3", SEED)
    assert sug["value"] == ("a" if a_is == "chosen" else "b")
    assert sug["agent"] == "judge j1 j2" and sug["type"] == "model" and sug["score"] == 1.0
    letter = "A" if a_is == "chosen" else "B"
    assert f"- j1: {letter}\n" in p3["fields"]["judges"]
    assert seen["r2"]["suggestions"][0]["value"] == "tie"
    # a verdict that flipped with the order shows both orders (j1 picks whatever is first,
    # whichever of A/B the item shows first)
    assert "position inconsistent" in seen["r2"]["fields"]["judges"]
    assert "- j1: tie (A shown first: A; B shown first: B)" in seen["r2"]["fields"]["judges"]
    # what the annotator must not see: the A/B order and the stored record with the judge
    # columns; they see why the item was sent
    meta = p3["metadata"] or {}
    assert "a_is" not in meta and "curate_record" not in meta
    assert meta.get("judge_hard_reason") == "low_margin"


def test_repush_is_idempotent(owner, judged_loop):
    recs = list(owner.records(owner.dataset("judged-test")["id"]))
    assert sorted(r["external_id"] for r in recs) == sorted(ANSWERS)
    assert sum(len(r["responses"]) for r in recs) == 10  # the answers survived


def test_pull_agreement_matches_hand_values(judged_loop):
    manifest = json.loads((judged_loop["out"] / "manifest.json").read_text())
    jh = manifest["label"]["judge_human"]
    assert (jh["items"], jh["answered"], jh["pairs"], jh["ties"]) == (5, 4, 3, 1)
    # see test_judged_pull.py for the hand computation
    assert jh["judges"]["j1"]["percent_agreement"] == pytest.approx(0.5)
    assert jh["judges"]["j1"]["alpha"] == pytest.approx(10 / 38)
    assert jh["judges"]["j2"]["percent_agreement"] == pytest.approx(0.25)
    assert jh["judges"]["j2"]["alpha"] == pytest.approx(0.0)
    assert jh["judges"]["judges together"]["alpha"] == pytest.approx(-4 / 38)
    out = judged_loop["pull"]
    assert "judge-human agreement on 4 of 5 items" in out
    assert "j1: percent agreement 0.500, Krippendorff's alpha (nominal) 0.263 over 4" in out
    assert "pairs.parquet: the people's pairs of the items they answered (3 records)" in out
    assert "merged.parquet: the run's judge pairs with the people's answers applied" in out
    assert "Judges against people" in (judged_loop["out"] / "report.html").read_text()


def test_final_pairs_follow_the_people(judged_loop):
    pairs = pl.read_parquet(judged_loop["out"] / "pairs.parquet")
    got = {r["id"]: (r["chosen"][0]["content"], r["rejected"][0]["content"],
                     json.loads(r["meta"])["pair"]) for r in pairs.iter_rows(named=True)}
    assert {k: v[:2] for k, v in got.items()} == {
        "p2": ("Paris.", "It is Paris, of course."), "p3": ("hello", "hi"),
        "r2": ("Blue.", "Green.")}
    assert got["p3"][2] == {"source": "annotators", "annotators": ["ann1", "ann2"],
                            "judge_agreed": False, "candidates": [1, 0]}
    merged = pl.read_parquet(judged_loop["out"] / "merged.parquet")
    sources = {r["id"]: json.loads(r["meta"])["pair"]["source"]
               for r in merged.iter_rows(named=True)}
    assert sources == {"p1": "judge", "p2": "annotators", "p3": "annotators",
                       "r2": "annotators"}


def test_merged_file_exports_as_dpo(judged_loop, tmp_path):
    res = CliRunner().invoke(cli, ["export", str(judged_loop["out"] / "merged.parquet"), "-o",
                                   str(tmp_path / "dpo"), "--target", "trl-dpo",
                                   "--test-size", "1"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for f in ("train.jsonl", "test.jsonl")
            for line in (tmp_path / "dpo" / f).read_text().splitlines()]
    assert {r["id"]: r["chosen"][0]["content"] for r in rows}["p3"] == "hello"
