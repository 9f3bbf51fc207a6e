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
        {"use": "safety.bias", "with": {"group_toxicity_max": 0.05,
                                        "disparity_min_records": 1}}]})
    manifest = run_recipe(recipe, tmp_path / "out")
    assert [s.get("dropped") for s in manifest["stages"][1:]] == [
        {"toxic": 1}, {"toxic_about_group": 1}]
    tox, bias = manifest["stages"][1], manifest["stages"][2]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Scorer: <b>profanity-check</b> 1.9.1" in html
    assert "not hostility said in polite words" in html   # the offline scorer's limits
    assert html.count("<svg") == 3                 # funnel, toxicity histogram, group bars
    # immigrants: 1 of 1 removed against 2 of 4 in the run (ratio 2): flagged, listed first
    assert ("nationality/immigrants</td><td><b>over_removed</b></td>"
            "<td class=num>1 → 0</td>") in html
    assert "religion/muslims</td><td><b></b></td><td class=num>1 → 1</td>" in html
    assert html.index("nationality/immigrants</td>") < html.index("religion/muslims</td>")
    assert "Flagged: <b>nationality/immigrants</b>" in html
    examples = html[html.index("Removed records of the flagged groups"):]
    assert "Immigrants are all the same" in examples and "toxic_about_group" in examples
    assert "<svg" in safety.section(tmp_path / "out", tox)
    section = safety.section(tmp_path / "out", bias)
    assert "over every stage of the run (safety.toxicity, safety.bias)" in section
    assert "4 records in, 2 out; removed rate 0.5 (toxic: 1, toxic_about_group: 1)" in section
