import json

from curate.recipe import parse_recipe
from curate.report import lang
from curate.runner import run_recipe

from ..lang.test_record import DE, EN, FR

ROWS = [("When is the museum open?", EN), ("Wann ist das Museum geöffnet?", DE),
        ("Quand le musée est-il ouvert ?", FR),
        ("Say it in English and in German.", f"{EN}\n\n{DE}\n\n{EN}")]


def test_section_shows_bars_dropped_and_mixed_records(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"instruction": q, "input": "", "output": a}) + "\n"
                            for q, a in ROWS))
    recipe = parse_recipe({"name": "t", "input": {"path": str(path)}, "stages": [
        {"use": "lang.id", "with": {"keep": ["en", "de"]}}]})
    manifest = run_recipe(recipe, tmp_path / "out")
    stage = manifest["stages"][1]
    html = lang.section(tmp_path / "out", stage)
    assert "<svg" in html and "Records per language" in html
    assert "kept: en, de" in html and "1 records mix languages" in html
    dropped = html[html.index("<h3>Dropped</h3>"):html.index("<h3>Mixing languages</h3>")]
    assert "wrong_language" in dropped and "Quand le musée" in dropped and "fr (" in dropped
    mixed = html[html.index("<h3>Mixing languages</h3>"):]
    assert "Say it in English and in German." in mixed and "en, de" in mixed
    assert "<h2>lang.id</h2>" in (tmp_path / "out" / "report.html").read_text()


def test_many_languages_are_grouped():
    counts = {f"l{i:02d}": {"kept": 30 - i, "dropped": i % 3} for i in range(25)}
    svg = lang.languages_svg(counts)
    assert "6 others" in svg and "l00" in svg and "l19" not in svg


def test_no_stats_no_section(tmp_path):
    assert lang.section(tmp_path, {"use": "lang.id", "stats": {}}) == ""
