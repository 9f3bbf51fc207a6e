import json

from curate.recipe import parse_recipe
from curate.report import safety
from curate.runner import run_recipe

ROWS = [
    ("How do I reset my router?", "Unplug it and plug it back in, you idiot."),
    ("What do you think about immigration?",
     "Immigrants are all the same and make every neighbourhood worse."),
    ("What is Ramadan?", "Ramadan is the ninth month of the Islamic calendar, when many "
                         "Muslims fast from dawn to sunset."),
    ("Name a colour.", "Red is a colour."),
]


def test_report_shows_scorer_histograms_and_group_bars(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"instruction": q, "input": "", "output": a}) + "\n"
                            for q, a in ROWS))
    recipe = parse_recipe({"name": "t", "input": {"path": str(path)}, "stages": [
        {"use": "safety.toxicity", "with": {"model": "profanity-check"}},
        {"use": "safety.bias", "with": {"group_toxicity_max": 0.05}}]})
    manifest = run_recipe(recipe, tmp_path / "out")
    assert [s.get("dropped") for s in manifest["stages"][1:]] == [
        {"toxic": 1}, {"toxic_about_group": 1}]
    tox, bias = manifest["stages"][1], manifest["stages"][2]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Scorer: <b>profanity-check</b> 1.9.1" in html
    assert html.count("<svg") == 3                 # funnel, toxicity histogram, group bars
    assert "nationality/immigrants</td><td class=num>1 → 0</td>" in html
    assert "religion/muslims</td><td class=num>1 → 1</td>" in html
    assert "<svg" in safety.section(tmp_path / "out", tox)
    assert "toxic above 0.5" in safety.section(tmp_path / "out", bias)
