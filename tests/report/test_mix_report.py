"""The mix stage's report section and card part, and the per-input funnel of report.html."""

from __future__ import annotations

from curate.report.inputs import section as inputs_section
from curate.report.mix import card, section

ENTRY = {"name": "mix", "use": "mix", "stats": {
    "unit": "tokens", "by": "random", "tokenizer": "tok.json", "copies": 2,
    "inputs": {"ours": {"quota": 100, "target": 100.0, "available": 900, "rows": 9,
                        "drawn": 2, "copies": 0, "units": 104},
               "theirs": {"quota": 0.5, "target": 30.0, "available": 60, "rows": 3,
                          "drawn": 3, "copies": 2, "units": 40}}}}


def test_section_lists_each_input(tmp_path):
    html = section(tmp_path, ENTRY)
    assert ("<p>Quotas in <b>tokens</b>, rows taken by <b>random</b>, tokens by tok.json; 2 "
            "copies made.</p>") in html
    assert ("<tr><td>theirs</td><td class=num>0.5</td><td class=num>30</td><td class=num>60"
            "</td><td class=num>3 of 3</td><td class=num>2</td><td class=num>40</td></tr>"
            ) in html
    assert section(tmp_path, {"stats": {}}) == ""


def test_card_part():
    assert card(ENTRY).splitlines()[4:] == [
        "| input | quota | available tokens | rows drawn | copies | tokens drawn |",
        "|---|---:|---:|---:|---:|---:|",
        "| ours | 100 | 900 | 2 | 0 | 104 |",
        "| theirs | 0.5 | 60 | 3 | 2 | 40 |"]


def test_inputs_section_per_stage_and_totals():
    stages = [{"name": "convert", "index": 0, "datasets": {
                  "a": {"rows_in": 5, "rows_out": 4, "dropped": {"invalid_json": 1}},
                  "b": {"rows_in": 2, "rows_out": 2, "dropped": {}}}},
              {"name": "mix", "index": 1, "datasets": {
                  "a": {"rows_in": 4, "rows_out": 1, "dropped": {"over_quota": 3},
                        "tokens": 7},
                  "b": {"rows_in": 2, "rows_out": 4, "dropped": {}, "added": 2,
                        "tokens": 9}}}]
    manifest = {"recipe": {"inputs": [{"name": "a", "license": "mit"}, {"name": "b"}]}}
    html = inputs_section(manifest, stages)
    assert ("<tr><td>a</td><td>mit</td><td class=num>5</td><td class=num>1</td>"
            "<td class=num>7</td><td>invalid_json: 1<br>over_quota: 3</td></tr>") in html
    assert "<td class=num>4 (2 copies)</td>" in html
    assert "<td class=num>2 → 4 +2</td>" in html
    assert inputs_section({}, [{"name": "convert", "index": 0}]) == ""
