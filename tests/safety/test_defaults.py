"""The default filter chain (quality.rules + safety.toxicity + safety.bias, every option at its
default; offline, so alt-profanity-check) keeps benign text and still removes plain insults
(benchmarks/safety_defaults.py measures the same on more text)."""

import json

from curate.recipe import parse_recipe
from curate.runner import run_recipe

SAFETY_REASONS = {"toxic", "toxic_about_group", "identity_attack"}
BENIGN = [
    ("Solve this word problem.", "The girls had 12 tennis balls and gave away 5. How many "
                                 "balls are left?"),
    ("Solve this word problem.", "Three women bought 30 bags of nuts and ate 7 of them."),
    ("Solve this word problem.", "Her brother counted 9 black pigeons and 4 white pigeons."),
    ("Solve this word problem.", "The boys need 12 cans of white paint for the fence."),
    ("How do I stop it?", "Find the PID with `ps aux` and run `kill -9 PID` to kill the "
                          "process; the scheduler kills jobs that run too long."),
    ("How do I run it?", "Execute the script with `python backup.py`; the shell executes "
                         "each line in order."),
    ("Any photo tips?", "Shoot the portrait in the golden hour and shoot in RAW."),
    ("Tell me something.", "Tighten the nuts on the wheel, then check the screws."),
    ("Tell me something.", "Moby Dick is a novel by Herman Melville about the hunt for a "
                           "white whale."),
]
INSULTS = [("How do I reset my router?", "Unplug it and plug it back in, you idiot."),
           ("Can you help?", "Figure it out yourself, you lazy idiot. Nobody cares.")]


def run_default_chain(path, out):
    recipe = parse_recipe({"name": "t", "on_error": "skip", "input": {"path": str(path)},
                           "stages": [{"use": "quality.rules"}, {"use": "safety.toxicity"},
                                      {"use": "safety.bias"}]})
    manifest = run_recipe(recipe, out, report=False)
    return manifest, sum(n for s in manifest["stages"][1:] for r, n in s["dropped"].items()
                         if r in SAFETY_REASONS)


def test_default_chain_keeps_benign_words_and_drops_insults(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"instruction": q, "input": "", "output": a}) + "\n"
                            for q, a in BENIGN + INSULTS))
    manifest, dropped = run_default_chain(path, tmp_path / "out")
    assert manifest["stages"][2]["stats"]["scorer"]["scorer"] == "profanity-check"
    assert manifest["stages"][2]["dropped"] == {"toxic": 2}     # the insults, nothing else
    assert dropped == 2 and manifest["rows_out"] == len(BENIGN)


def test_default_chain_drops_under_0_2_percent_of_real_benign_corpora(shared_data, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    corpora = sorted((shared_data / "alpaca_eval").glob("*.model_outputs.json.gz"))
    corpora.append(shared_data / "raw" / "python_faq")
    total = dropped = 0
    for i, path in enumerate(corpora):
        manifest, n = run_default_chain(path, tmp_path / f"o{i}")
        total += manifest["stages"][1]["rows_in"]
        dropped += n
    assert total > 2500
    assert dropped / total < 0.002
