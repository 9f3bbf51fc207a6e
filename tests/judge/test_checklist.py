"""Reading yes/no answers, as the packaged 135M model writes them (replies seen on AlpacaEval
items), and the questions asked per aspect."""

import pytest

from curate.judge.checklist import QUESTIONS, question_of, yes_no


@pytest.mark.parametrize("reply, value", [
    ("Yes.", 1.0), ("No.", 0.0), ("yes", 1.0), ("**No**, it is wrong", 0.0),
    ("No, the answer is not", 0.0), ("Yes. The answer is correct", 1.0),
    ("The answer is correct and helpful", 1.0), ("This answer is incorrect and helpful", 0.0),
    ("No, this answer is incorrect", 0.0), ('{"answer": "yes"}', 1.0),
    ("I'm glad you're happy", None), ("", None), (None, None),
    ("Nobody knows", None), ("Yesterday it rained", None),
    ("The answer is not entirely true", 0.0), ("The answer does not answer the", 0.0),
    ("The answer is safe and respectful", 1.0), ("The answer answers it", None),
])
def test_yes_no(reply, value):
    assert yes_no(reply) == value


def test_questions_per_aspect():
    assert question_of("honesty") == QUESTIONS["honesty"]
    assert question_of("code_style") == "Is the answer good in code style?"
