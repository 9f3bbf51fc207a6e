import numpy as np
import pytest
import torch

from curate.errors import CurateError
from curate.safety import scorers


def test_asking_for_detoxify_offline_without_weights_is_an_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not scorers.detoxify_cached("unbiased")
    with pytest.raises(CurateError, match="Detoxify model 'unbiased' needs .*not cached.*"
                                          "--toxicity-checkpoint"):
        scorers.resolve_scorer("unbiased")


def test_auto_falls_back_to_profanity_check_offline_and_says_why(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = scorers.resolve_scorer("auto")
    assert spec.kind == "profanity-check"
    info = scorers.describe(spec)
    assert info["scorer"] == "profanity-check" and info["version"] == "1.9.1"
    assert "bert-base-uncased" in info["fallback_reason"]


def test_bad_checkpoint_options_are_clear_errors(tmp_path, tiny_detoxify):
    with pytest.raises(CurateError, match="no such file"):
        scorers.resolve_scorer(checkpoint=str(tmp_path / "missing.ckpt"))
    with pytest.raises(CurateError, match="only used with a checkpoint"):
        scorers.resolve_scorer(config=str(tiny_detoxify.config_dir))
    bad = tmp_path / "bad.ckpt"
    torch.save({"weights": 1}, bad)
    spec = scorers.resolve_scorer(checkpoint=str(bad), config=str(tiny_detoxify.config_dir))
    with pytest.raises(CurateError, match="not a Detoxify checkpoint"):
        scorers.load_scorer(spec)


def test_tiny_checkpoint_loads_through_detoxify(tiny_detoxify):
    spec = scorers.resolve_scorer(checkpoint=str(tiny_detoxify.checkpoint),
                                  config=str(tiny_detoxify.config_dir))
    scorer = scorers.load_scorer(spec)
    assert scorer.labels == tiny_detoxify.labels
    assert scorer.max_length == 32
    assert scorers.describe(spec, scorer)["model"] == "checkpoint"
    s = scorer.predict(["you are a idiot", "the recipe is ready now", "all women are worthless"])
    assert s["toxicity"][0] > 0.9 and s["insult"][0] > 0.5
    assert s["toxicity"][1] < 0.1
    assert s["identity_attack"][2] > 0.5 and s["identity_attack"][0] < 0.3


def test_score_texts_sorts_dedups_and_truncates(tiny_detoxify):
    scorer = scorers.load_scorer(scorers.resolve_scorer(
        checkpoint=str(tiny_detoxify.checkpoint), config=str(tiny_detoxify.config_dir)))
    head = "the recipe is ready now " * 6               # 30 words: [CLS] + 30 + [SEP] = 32
    long = head + "you are a idiot " * 50               # the insult is past the model's limit
    texts = ["you are a idiot", long, "the bike works well", "you are a idiot", head]
    before = scorer.texts_scored
    out = scorers.score_texts(scorer, texts, batch_size=2)
    assert scorer.texts_scored - before == 4            # the repeated text is scored once
    one_by_one = [scorer.predict([t])["toxicity"][0] for t in texts]
    np.testing.assert_allclose(out["toxicity"], one_by_one, atol=1e-5)
    assert out["toxicity"][1] == pytest.approx(out["toxicity"][4], abs=1e-6)  # truncated
    assert out["toxicity"][0] > 0.9 and out["toxicity"][1] < 0.1


def test_profanity_scorer_scores_the_demo_insults():
    scorer = scorers.load_scorer(scorers.ScorerSpec("profanity-check"))
    s = scorer.predict(["Figure it out yourself, you lazy idiot.",
                        "Ramadan is the ninth month of the Islamic calendar."])["profanity"]
    assert s[0] > 0.9 and s[1] < 0.05


class _Payload:
    """Pickled by reference: loading it would need this module's code."""


def test_a_checkpoint_that_needs_code_to_load_is_refused(tmp_path, tiny_detoxify):
    loaded = torch.load(tiny_detoxify.checkpoint, weights_only=True)
    loaded["config"]["extra"] = _Payload()
    bad = tmp_path / "code.ckpt"
    torch.save(loaded, bad)
    spec = scorers.resolve_scorer(checkpoint=str(bad), config=str(tiny_detoxify.config_dir))
    with pytest.raises(CurateError, match="not a Detoxify checkpoint .*UnpicklingError"):
        scorers.load_scorer(spec)
