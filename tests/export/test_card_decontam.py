from curate.export.card import render_card


def test_card_says_what_was_checked_and_removed():
    stages = [
        {"name": "convert", "rows_in": 10, "rows_out": 10, "dropped": {}},
        {"name": "decontam.ngram", "use": "decontam.ngram", "rows_in": 10, "rows_out": 7,
         "dropped": {"contaminated": 3},
         "stats": {"mode": "ngram", "removed": 3, "by_benchmark": {"alpaca_eval": 2, "mmlu": 1},
                   "benchmarks": {"alpaca_eval": {"texts": 805}, "mmlu": {"texts": 14042}}}},
        {"name": "paraphrases", "use": "decontam.semantic", "rows_in": 7, "rows_out": 7,
         "dropped": {}, "stats": {"mode": "semantic", "marked": 1,
                                  "by_benchmark": {"alpaca_eval": 1},
                                  "benchmarks": {"alpaca_eval": {"texts": 805}}}},
    ]
    card = render_card(target="trl-sft", counts={"train": 6, "test": 1},
                       run_info={"stages": stages})
    section = card.split("## Decontamination\n\n")[1].split("\n\n")[0]
    assert section.splitlines() == [
        "- decontam.ngram (ngram): checked against: alpaca_eval (805 texts), mmlu (14042 "
        "texts); removed: 3 (alpaca_eval: 2, mmlu: 1)",
        "- paraphrases (semantic): checked against: alpaca_eval (805 texts); marked: 1 "
        "(alpaca_eval: 1)"]


def test_no_section_without_a_decontamination_stage():
    card = render_card(target="trl-sft", counts={"train": 6, "test": 1},
                       run_info={"stages": [{"name": "dedup.exact", "rows_in": 1,
                                             "rows_out": 1, "stats": {"mode": "x"}}]})
    assert "## Decontamination" not in card
