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
    assert audit["records"] == 5 and audit["kept"]["records"] == 4
    assert list(audit["groups"]) == ["age/older", "gender/women", "nationality/immigrants"]
    women = audit["groups"]["gender/women"]
    assert (women["records"], women["share"], women["toxic_rate"],
            women["identity_attack_rate"]) == (1, 1.0, 1.0, 1.0)
    assert audit["kept"]["groups"]["gender/women"]["records"] == 0
    assert audit["identity_attack_scored"] is True
    assert result.stats["failures"] == {"identity_attack": 1}
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
