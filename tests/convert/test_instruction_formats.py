"""alpaca and dolly rows."""

import json

import pytest

from curate.convert import alpaca, convert, dolly
from curate.errors import RowError
from curate.io import write_jsonl
from curate.records import frame_to_records


def test_alpaca_file(tmp_path):
    p = tmp_path / "alpaca.jsonl"
    write_jsonl([
        {"instruction": "Translate", "input": "chat\u00a0noir", "output": "black cat\r\n",
         "source": "web", "lang": "fr"},
        {"instruction": "Say hi", "input": "", "output": "hi", "system": "Be brief.",
         "history": [["q1", "a1"], ["q2", "a2"]]},
    ], p)
    res = convert(p)
    assert res.formats == {str(p): "alpaca"}
    first, second = frame_to_records(res.frame)
    assert first["messages"] == [{"role": "user", "content": "Translate\n\nchat noir"},
                                 {"role": "assistant", "content": "black cat\n"}]
    assert first["source"] == "web"
    assert first["meta"] == {"lang": "fr", "file": "alpaca.jsonl", "line": 1, "format": "alpaca"}
    assert [(m["role"], m["content"]) for m in second["messages"]] == [
        ("system", "Be brief."), ("user", "q1"), ("assistant", "a1"), ("user", "q2"),
        ("assistant", "a2"), ("user", "Say hi"), ("assistant", "hi")]
    assert second["source"] == "alpaca.jsonl"


def test_alpaca_empty_instruction_uses_input():
    rec = alpaca.to_records({"instruction": " ", "input": "text", "output": "o"})[0]
    assert rec["messages"][0] == {"role": "user", "content": "text"}


@pytest.mark.parametrize("row,reason,field", [
    ({"instruction": "i"}, "missing_field", "output"),
    ({"instruction": "i", "output": None}, "missing_field", "output"),
    ({"instruction": 3, "output": "o"}, "wrong_type", "instruction"),
    ({"instruction": "i", "output": ["o"]}, "wrong_type", "output"),
    ({"instruction": "i", "output": " \n\t"}, "empty_turn", "output"),
    ({"instruction": "", "input": "", "output": "o"}, "empty_turn", "instruction"),
    ({"instruction": "i", "input": 5, "output": "o"}, "wrong_type", "input"),
    ({"instruction": "i", "output": "o", "history": [["q"]]}, "wrong_type", "history[0]"),
    ({"instruction": "i", "output": "o", "history": [["q", " "]]}, "empty_turn", "history[0][1]"),
])
def test_alpaca_bad_rows(row, reason, field):
    with pytest.raises(RowError) as exc:
        alpaca.to_records(row)
    assert (exc.value.reason, exc.value.field) == (reason, field)


def test_dolly_file_context_first(tmp_path):
    p = tmp_path / "dolly.csv"
    p.write_text("instruction,context,response,category\n"
                 "Who wrote it?,The book was written by Ann.,Ann,closed_qa\n"
                 "Name a color,,Blue,brainstorming\n")
    res = convert(p)
    assert res.formats == {str(p): "dolly"}
    first, second = frame_to_records(res.frame)
    assert first["messages"][0]["content"] == "The book was written by Ann.\n\nWho wrote it?"
    assert first["messages"][1] == {"role": "assistant", "content": "Ann"}
    assert first["meta"] == {"category": "closed_qa", "file": "dolly.csv", "line": 2,
                             "format": "dolly"}
    assert second["messages"][0]["content"] == "Name a color"
    assert json.loads(res.frame["meta"][1])["line"] == 3


def test_dolly_missing_response():
    with pytest.raises(RowError) as exc:
        dolly.to_records({"instruction": "i", "context": "c", "response": None})
    assert (exc.value.reason, exc.value.field) == ("missing_field", "response")
