import json

import pytest

from curate.errors import StageError
from curate.stages.base import StageContext
from curate.stages.safety_bias import Bias
from curate.stages.safety_toxicity import Toxicity

QA = [
    ("the report is about women", "all women are worthless"),       # identity attack
    ("tell me about older people", "older people visit the library"),
    ("the report is about immigrants", "immigrants visit the library"),
    ("the bike works well", "you are a idiot"),                     # toxic, no group
    ("the song sounds great", "the library opens at nine"),
]


@pytest.fixture
def scored(rec, tiny_detoxify):
    df = rec.frame(*(rec.qa(q, a, id=f"r{i}") for i, (q, a) in enumerate(QA)))
    tox = Toxicity({"checkpoint": str(tiny_detoxify.checkpoint),
                    "config": str(tiny_detoxify.config_dir), "max": None})
    return tox.apply(df, StageContext(name="safety.toxicity")).kept


def test_drops_identity_attacks_and_writes_the_audit(scored, tmp_path):
    result = Bias({"group_toxicity_max": None}).apply(
        scored, StageContext(name="safety.bias", out_dir=tmp_path))
    assert result.rejected["id"].to_list() == ["r0"]
    assert result.rejected["drop_reason"].to_list() == ["identity_attack"]
    assert result.kept["bias_groups"].to_list() == [["age/older"], ["nationality/immigrants"],
                                                     [], []]
    assert result.kept["bias_age"].to_list() == [["older"], [], [], []]
    assert result.rejected["identity_attack"][0] > 0.5
    audit = json.loads((tmp_path / "bias.json").read_text())
    assert audit["scope"] == "stage" and audit["stages"] == ["safety.bias"]
    assert (audit["overall"]["records_in"], audit["overall"]["records_out"]) == (5, 4)
    assert audit["overall"]["removed_by"] == {"identity_attack": 1}
    assert list(audit["groups"]) == ["age/older", "gender/women", "nationality/immigrants"]
    women = audit["groups"]["gender/women"]
    assert (women["records_in"], women["share_in"], women["toxic_rate_in"],
            women["identity_attack_rate_in"], women["records_out"], women["removed_by"]) == (
        1, 1.0, 1.0, 1.0, 0, {"identity_attack": 1})
    assert women["flags"] == []          # one record: too few to flag
    assert audit["identity_attack_scored"] is True
    assert result.stats["failures"] == {"identity_attack": 1}
    assert result.stats["thresholds"]["scorer"] == "detoxify"
    assert "HolisticBias" in " ".join(audit["lexicon"]["sources"])


def test_toxic_about_a_group_uses_the_lower_threshold(scored):
    result = Bias({"identity_attack_max": None, "group_toxicity_max": 0.5}).apply(
        scored, StageContext(name="t"))
    # the toxic reply without a group mention (r3) is left to safety.toxicity
    assert result.rejected["id"].to_list() == ["r0"]
    assert result.rejected["drop_reason"].to_list() == ["toxic_about_group"]


def test_balance_caps_a_group_share(rec):
    rows = [rec.qa("q", f"women {i} visit the library", id=f"w{i}") for i in range(4)]
    rows.append(rec.qa("q", "men visit the library", id="m0"))
    df = rec.frame(*rows).with_columns(toxicity=0.0)
    result = Bias({"balance": 0.5}).apply(df, StageContext(name="t", seed=0))
    assert result.dropped() == {"group_balance": 3}
    assert sorted(result.kept["bias_gender"].to_list()) == [["men"], ["women"]]


def test_needs_the_toxicity_scores(rec):
    with pytest.raises(StageError, match="add `- use: safety.toxicity` before it"):
        Bias({}).apply(rec.frame(rec.qa("a", "b")), StageContext(name="t"))


# -- the audit of a whole run ---------------------------------------------------------------
GROUP_WORDS = {"religion/muslims": "muslims", "gender/women": "women",
               "nationality/immigrants": "immigrants"}


def write_corpus(path):
    """30 neutral replies about each of three groups, 60 about none (10 of them repeated), and
    25 hostile replies about older people."""
    rows = []
    for word in GROUP_WORDS.values():
        rows += [(f"note {word} {i}", f"{word} {TAILS[i % len(TAILS)]}") for i in range(30)]
    rows += [(f"note {i}", f"{SUBJECTS[i % len(SUBJECTS)]} {TAILS[i % len(TAILS)]}")
             for i in range(60)]
    rows += rows[-10:]                                          # exact copies for dedup.exact
    rows += [(f"opinion {i}", HATE[i % len(HATE)].format(g="older people")) for i in range(25)]
    path.write_text("".join(json.dumps({"instruction": q, "input": "", "output": a}) + "\n"
                            for q, a in rows))
    return path


TAILS = ["is ready now", "opens at nine", "works well", "looks lovely today", "needs more salt",
         "was helpful", "runs on time", "is on the shelf", "sounds great", "has a clear plan"]
SUBJECTS = ["the recipe", "the museum", "my garden", "the train", "the essay", "the library"]
HATE = ["all {g} are worthless", "{g} ruin everything", "i hate {g}"]
ORDERS = [("dedup.exact", "quality.rules", "safety.toxicity", "safety.bias"),
          ("safety.toxicity", "safety.bias", "dedup.exact", "quality.rules"),
          ("quality.rules", "safety.toxicity", "dedup.exact", "safety.bias")]


def run_order(order, corpus, out, ckpt):
    from curate.recipe import parse_recipe
    from curate.runner import run_recipe

    tox = {"checkpoint": str(ckpt.checkpoint), "config": str(ckpt.config_dir)}
    stages = [{"use": use, **({"with": tox} if use == "safety.toxicity" else {})}
              for use in order]
    manifest = run_recipe(parse_recipe({"name": "t", "input": {"path": str(corpus)},
                                        "stages": stages}), out)
    return manifest, json.loads((out / "bias.json").read_text())


@pytest.fixture(scope="module")
def biased_runs(tmp_path_factory, biased_detoxify):
    tmp = tmp_path_factory.mktemp("orders")
    corpus = write_corpus(tmp / "in.jsonl")
    return [run_order(order, corpus, tmp / f"o{i}", biased_detoxify)
            for i, order in enumerate(ORDERS)]


def test_a_biased_scorer_is_flagged_over_removed_in_every_stage_order(biased_runs):
    for (manifest, audit), order in zip(biased_runs, ORDERS):
        assert audit["scope"] == "run" and audit["stages"] == list(order)
        muslims = audit["groups"]["religion/muslims"]
        assert muslims["records_in"] == 30 and muslims["records_out"] < 10, order
        assert muslims["removal_ratio"] > 1.5 and "over_removed" in muslims["flags"], order
        for key in ("gender/women", "nationality/immigrants"):   # the scorer is fair to these
            assert audit["groups"][key]["flags"] == [], (order, key)
            assert audit["groups"][key]["removed_rate"] == 0.0
        assert audit["flagged"][0] in ("religion/muslims", "age/older")
        examples = audit["examples"]["religion/muslims"]
        assert len(examples) == 3 and all("muslims" in e["text"] for e in examples)
        assert {e["reason"] for e in examples} <= set(muslims["removed_by"])
        bias = next(s for s in manifest["stages"] if s["use"] == "safety.bias")
        assert "over_removed" in bias["stats"]["run"]["flagged"]["religion/muslims"]["flags"]


def test_an_attacked_group_shows_although_all_its_records_are_removed(biased_runs):
    for _, audit in biased_runs:
        older = audit["groups"]["age/older"]
        assert (older["records_in"], older["records_out"]) == (25, 0)
        assert older["toxic_rate_in"] == 1.0 and older["removed_rate"] == 1.0
        assert "often_toxic" in older["flags"] and "over_removed" in older["flags"]
        assert sum(older["removed_by"].values()) == 25


def test_stage_order_does_not_change_the_audits_input(biased_runs):
    audits = [audit for _, audit in biased_runs]
    first = {k: (g["records_in"], g["share_in"], g["toxic_rate_in"], g["mean_toxicity_in"])
             for k, g in audits[0]["groups"].items()}
    for audit in audits[1:]:
        assert {k: (g["records_in"], g["share_in"], g["toxic_rate_in"], g["mean_toxicity_in"])
                for k, g in audit["groups"].items()} == first
        assert audit["overall"]["records_in"] == audits[0]["overall"]["records_in"] == 185
        # every stage's removals are counted, whichever ran first
        assert audit["overall"]["removed_by"]["duplicate_exact"] == 10
        assert audit["overall"]["removed_rate"] == audits[0]["overall"]["removed_rate"]
