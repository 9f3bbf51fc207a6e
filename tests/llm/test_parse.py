from __future__ import annotations

from curate.llm.parse import clean_reply, parse_questions


def test_questions_from_lists_labels_and_json():
    reply = ("Here are some questions:\n1. What is the Rhine?\n2) Question: How long is it?\n"
             "- What is the answer to the question: Where does the Rhine begin?\n"
             "3. What is the Rhine?\nIt flows north.\n` syntax to call a function?\nWhy?")
    assert parse_questions(reply, 5) == ["What is the Rhine?", "How long is it?",
                                         "Where does the Rhine begin?"]
    assert parse_questions(reply, 1) == ["What is the Rhine?"]
    assert parse_questions('{"questions": ["Who wrote it?", "x"]}', 3) == ["Who wrote it?"]
    assert parse_questions("Python is an interpreted language.", 2) == []


def test_clean_reply_drops_labels_and_quotes():
    assert clean_reply('New instruction: "Write a sonnet about the sea."') == \
        "Write a sonnet about the sea."
    assert clean_reply("  ") == ""
