"""The ``checklist`` judge mode: one yes/no question per aspect about one response at a time.

A yes is 1, a no 0; an aspect's score is the share of judges that said yes, a candidate's
``judge_score`` the mean over aspects (0-1). No response is shown beside another, so there is
no position to be biased by; the price is coarse scores (four aspects: 0, 0.25 ... 1) and
more ties. It is the mode in which the packaged 135M model answers readably (see
benchmarks/README.md, "LLM judges").

Examples:
    >>> yes_no("Yes."), yes_no("No, the answer is incorrect"), yes_no("The answer is not correct")
    (1.0, 0.0, 0.0)
    >>> yes_no("I'm glad you're happy") is None
    True
    >>> question_of("instruction_following")
    'Does the answer answer the question?'
"""

from __future__ import annotations

import re

from ..llm.parse import json_object

QUESTIONS = {
    "helpfulness": "Is the answer helpful?",
    "honesty": "Is the answer true?",
    "harmlessness": "Is the answer safe and respectful?",
    "instruction_following": "Does the answer answer the question?",
    "correctness": "Is the answer correct?",
}
_LEAD = re.compile(r"^[\s*\"'`(\[]*(yes|no)\b", re.I)
# the answer restated: "The answer is (not entirely) true", "does not answer the question"
# (the questions are worded so that the adjective's polarity is the answer's)
_VERDICT = re.compile(r"\b(?:is|are|was|does)\s+(not\s+(?:\w+\s+)?|in)?"
                      r"(correct|helpful|accurate|true|safe|respectful|appropriate|answer)",
                      re.I)


def question_of(aspect: str) -> str:
    """The yes/no question asked for ``aspect`` (a generic one for aspects of one's own)."""
    return QUESTIONS.get(aspect) or f"Is the answer good in {aspect.replace('_', ' ')}?"


def yes_no(text: str | None) -> float | None:
    """1.0 for yes, 0.0 for no, None when the reply says neither."""
    text = (text or "").strip()
    data = json_object(text)
    if data is not None:
        value = next((v for k, v in data.items() if k.lower() in ("answer", "verdict")), None)
        text = str(value) if value is not None else ""
    m = _LEAD.match(text)
    if m:
        return 1.0 if m.group(1).lower() == "yes" else 0.0
    m = _VERDICT.search(text)
    if m:
        return 0.0 if m.group(1) else 1.0
    return None
