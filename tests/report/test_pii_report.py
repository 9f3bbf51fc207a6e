"""The ``pii`` stage's report section and dataset-card line: counts per type, bars, examples
with placeholders, and never a raw value (with ``mark`` and ``drop`` the values are still in
the run's data, so the report redacts its excerpts itself)."""

from __future__ import annotations

import json

import pytest

from curate.recipe import parse_recipe
from curate.report import pii as section_module
from curate.runner import run_recipe

EMAIL, SSN, KEY = "priya.okafor@proton.me", "536-22-1234", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
ROWS = [("Mail my results to " + EMAIL + ", please.", "Sure, I have noted the address."),
        ("My SSN is " + SSN + ". Is that safe to share?", "No, keep it private."),
        ("Why does my script fail?", f"```python\nstripe.api_key = \"{KEY}\"\n```\nRotate it."),
        ("Name a colour.", "Red, #ff0000, served from 127.0.0.1.")] + [
        (f"What is {i} + {i}?", f"{2 * i}, see version {i}.0.1.2.") for i in range(6)]


@pytest.mark.parametrize("action", ["mark", "drop"])
def test_report_and_card_show_counts_never_values(tmp_path, action):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"instruction": q, "input": "", "output": a}) + "\n"
                            for q, a in ROWS))
    recipe = parse_recipe({"name": "t", "input": {"path": str(path)},
                           "stages": [{"use": "pii", "with": {"action": action}}],
                           "export": [{"target": "trl-sft"}]})
    out = tmp_path / "out"
    manifest = run_recipe(recipe, out)
    stage = manifest["stages"][1]
    assert stage["stats"]["values"] == {"secret": 1, "us_ssn": 1, "email": 1}

    html = (out / "report.html").read_text()
    own = section_module.section(out, stage)
    assert "3 of 10 records held personal data or secrets" in own
    assert own.count("<svg") == 1 and own.count("<tr>") == 4  # header + 3 examples
    assert "&lt;EMAIL&gt;" in own and "&lt;US_SSN&gt;" in own and "&lt;SECRET&gt;" in own
    card = (out / "export" / "trl-sft" / "README.md").read_text()
    assert ("3 of 10 records held some (values found per type: secret 1, us_ssn 1, email 1)"
            in card)
    for raw in (EMAIL, SSN, KEY):
        assert raw not in html and raw not in card


def test_section_without_findings_is_one_line(tmp_path):
    stage = {"use": "pii", "rows_in": 4, "thresholds": {"types": ["email"]},
             "stats": {"action": "redact", "records_with_pii": 0, "records": {}, "values": {}}}
    assert section_module.section(tmp_path, stage) == (
        "<p>Action <b>redact</b>: 0 of 4 records held personal data or secrets "
        "(looked for: email).</p>")
