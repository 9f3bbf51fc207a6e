"""The judge.llm report section and card part from a judged checkpoint."""

from __future__ import annotations

from curate.report.judge import card, section
from curate.stages.base import StageContext
from curate.stages.judge_llm import JudgeLLM

from ..judge.judges import judge_server, pairs_frame


def test_section_shows_rates_histogram_and_flips(tmp_path):
    server = judge_server()
    try:
        result = JudgeLLM({"judges": [f"openai:first@{server.url}",
                                      f"openai:longer@{server.url}"]}).apply(
            pairs_frame(2), StageContext(name="judge.llm", on_error="skip"))
    finally:
        server.close()
    result.kept.write_parquet(tmp_path / "01.parquet")
    entry = {"name": "judge.llm", "use": "judge.llm", "checkpoint": "01.parquet",
             "stats": result.stats, "dropped": {}}
    html = section(tmp_path, entry)
    assert "Position-bias rate <b>50.0%</b>: 3 of 6 comparisons" in html
    assert "Krippendorff's alpha <b>" in html and "<svg" in html
    assert "Verdicts that flipped with the order" in html
    assert "openai:first: a / b" in html  # each order picked the response shown first
    assert "100.0%" in html and "0.0%" in html  # per-judge position-bias rates
    text = card(entry)
    assert "`openai:first`, `openai:longer`" in text and "judge-v2" in text
    assert "50.0% of comparisons flipped" in text
