import json
import re

from curate.recipe import parse_recipe
from curate.report.dedup import section
from curate.runner import run_recipe

BASE = ("Vaccines expose the immune system to a harmless form of a pathogen so that it "
        "builds antibodies and memory cells which recognise the target later on and "
        "respond faster and more strongly when the real pathogen is met. Because of these "
        "memory cells the protection can last for many years, although some vaccines need "
        "booster doses after a while to keep the level of antibodies high enough to work")


def _run(tmp_path):
    rows = [{"instruction": "Explain vaccines.", "output": BASE},
            {"instruction": "Explain vaccines.", "output": BASE.replace("faster", "quicker")},
            {"instruction": "EXPLAIN vaccines.", "output": BASE},
            {"instruction": "Explain vaccines.", "output": BASE.replace("later on", "later")},
            {"instruction": "Name a colour.", "output": "Red is a <colour>."},
            {"instruction": "name a colour.", "output": "red is a <colour>."}]
    data = tmp_path / "in.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    recipe = parse_recipe({"name": "r", "input": {"path": str(data)},
                           "stages": [{"use": "dedup.exact"}, {"use": "dedup.near"}]})
    out = tmp_path / "run"
    manifest = run_recipe(recipe, out)
    return out, manifest


def test_sections_for_exact_and_near(tmp_path):
    out, manifest = _run(tmp_path)
    exact, near = manifest["stages"][1], manifest["stages"][2]
    assert (exact["dropped"], near["dropped"]) == ({"duplicate_exact": 2},
                                                   {"duplicate_near": 2})
    page = section(out, exact)
    assert "2 clusters of duplicates, 2 records removed." in page
    assert page.count("<svg") == 1
    assert "red is a &lt;colour&gt;." in page          # removed text, escaped
    assert "<br>2 records</td>" in page
    page = section(out, near)
    assert "1 clusters of duplicates, 2 records removed." in page
    assert "on: conversation, bands: 14, rows: 9, candidates: 3, pairs: 2, dup_clusters: 1" in page
    rows = re.findall(r"<tr><td>(\w+)<br>(\d+) records</td>", page)
    assert [int(n) for _, n in rows] == [3]
    assert page.count("quicker") == 1 and page.count("<hr>") == 1   # 2 removed, side by side
    report = (out / "report.html").read_text()
    assert "<h2>dedup.near</h2>" in report and "<h2>dedup.exact</h2>" in report


def test_nothing_removed_gives_only_the_stats(tmp_path):
    out, manifest = _run(tmp_path)
    stage = dict(manifest["stages"][2], rejected="rejected/none.parquet")
    assert section(out, stage) == ""
