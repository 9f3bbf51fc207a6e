from __future__ import annotations

import pytest

from curate.judge.parse import pairwise_verdict, rubric_scores


@pytest.mark.parametrize("reply,verdict", [
    ("A", "A"), ("B.", "B"), ("**B**", "B"), ("tie", "tie"), ("[[A]]", "A"),
    ("My verdict: [[B]]", "B"), ("[[C]]", "tie"), ('{"winner": "B"}', "B"),
    ('```json\n{"verdict": "tie"}\n```', "tie"), ("Response B is better.", "B"),
    ("Clearly, response A was much better than B", "A"), ("I prefer B.", "B"),
    ("Both are equally good.", "tie"), ("Assistant A", "A"),
    ("", None), ("I cannot decide, both have merits.", None), ("Answers differ.", None),
    ("Actually, it depends.", None), ("A good answer needs sources.", None),
    ("B\nBecause it is shorter.", "B"), ("Response A", "A"),
    ('The response "A" is more helpful', "A"),
])
def test_pairwise_verdicts(reply, verdict):
    assert pairwise_verdict(reply) == verdict


def test_rubric_scores_from_text_json_and_other_scales():
    aspects = ["helpfulness", "honesty", "instruction_following"]
    text = "Helpfulness: 7/10\n- Honesty - 4\nInstruction following: 12"
    assert rubric_scores(text, aspects, 10) == {"helpfulness": 7.0, "honesty": 4.0,
                                                "instruction_following": None}
    assert rubric_scores('{"Helpfulness": 3, "instruction-following": 5}', aspects, 5) == \
        {"helpfulness": 3.0, "honesty": None, "instruction_following": 5.0}
    assert rubric_scores("Helpfulness: 8/10", ["helpfulness"], 5) == {"helpfulness": 4.0}
    assert rubric_scores("I like it.", aspects, 10) == dict.fromkeys(aspects)
