"""Column maps: each common shape converts with no flag (detected) or with one --columns map,
to the same records; nested fields, meta.*, id; errors name the field, file and line."""

import json

import polars as pl
import pytest

from curate.convert import convert
from curate.convert.columns import ColumnMap, detect_columns
from curate.errors import CurateError, InputError
from curate.io import write_jsonl

SKIP = ("--on-error skip (on_error: skip in a recipe) keeps such rows in rejected/ with their "
        "reason")

# shape: (rows, the map detected and given, the first record's messages or pair)
SHAPES = {
    "question/answer": (
        [{"question": "What is 2+3?", "answer": "2+3 = 5.\n#### 5"}],
        "prompt=question,response=answer",
        [("user", "What is 2+3?"), ("assistant", "2+3 = 5.\n#### 5")]),
    "prompt/response": (
        [{"prompt": "Say hi.", "response": "Hi!"}], "prompt=prompt,response=response",
        [("user", "Say hi."), ("assistant", "Hi!")]),
    "query/response": (
        [{"query": "Capital of Peru?", "response": "Lima."}], "prompt=query,response=response",
        [("user", "Capital of Peru?"), ("assistant", "Lima.")]),
    "problem/solution": (
        [{"problem": "Find $x$ if $x+1=3$.", "solution": "$x=\\boxed{2}$", "level": "Level 1"}],
        "prompt=problem,response=solution",
        [("user", "Find $x$ if $x+1=3$."), ("assistant", "$x=\\boxed{2}$")]),
    "input/target": (
        [{"input": "translate: chat", "target": "cat"}], "prompt=input,response=target",
        [("user", "translate: chat"), ("assistant", "cat")]),
    "prompt/completion": (
        [{"prompt": "Once upon", "completion": "a time."}], "prompt=prompt,response=completion",
        [("user", "Once upon"), ("assistant", "a time.")]),
    "system/question/answer": (
        [{"system": "Be brief.", "question": "Sky colour?", "answer": "Blue."}],
        "system=system,prompt=question,response=answer",
        [("system", "Be brief."), ("user", "Sky colour?"), ("assistant", "Blue.")]),
    "history/prompt/response": (
        [{"prompt": "And then?", "response": "Sleep.", "history": [["Hi", "Hello"]]}],
        "history=history,prompt=prompt,response=response",
        [("user", "Hi"), ("assistant", "Hello"), ("user", "And then?"),
         ("assistant", "Sleep.")]),
    "question/chosen/rejected": (
        [{"system": "Be kind.", "question": "Is the sky blue?", "chosen": "Yes, mostly.",
          "rejected": "No."}],
        "system=system,prompt=question,chosen=chosen,rejected=rejected",
        {"prompt": [("system", "Be kind."), ("user", "Is the sky blue?")],
         "chosen": [("assistant", "Yes, mostly.")], "rejected": [("assistant", "No.")]}),
    "text": (
        [{"text": "# Notes\n\nintro\n\n## What is curate?\n\nA curation tool.", "url": "u"}],
        "text=text", [("user", "What is curate?"), ("assistant", "A curation tool.")]),
}


def _pairs(turns):
    return [(t["role"], t["content"]) for t in turns]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_converts_alike_detected_or_given(tmp_path, shape):
    rows, mapping, expected = SHAPES[shape]
    path = tmp_path / "in.jsonl"
    write_jsonl(rows, path)
    detected = convert(path, on_error="skip")
    given = convert(path, columns=mapping, on_error="skip")
    assert detected.columns == given.columns == {str(path): mapping}
    assert detected.frame.equals(given.frame)
    first = detected.frame.row(0, named=True)
    if isinstance(expected, dict):
        assert {k: _pairs(first[k]) for k in expected} == expected
        assert first["kind"] == "preference"
    else:
        assert _pairs(first["messages"]) == expected
        assert first["kind"] == "sft"
    assert detected.formats == given.formats == {str(path): "columns"}


def test_unused_fields_go_to_meta_and_the_format_is_columns(tmp_path):
    path = tmp_path / "math.jsonl"
    write_jsonl([{"problem": "1+1?", "solution": "2", "level": "Level 1", "type": "Algebra"}],
                path)
    meta = json.loads(convert(path).frame["meta"][0])
    assert meta == {"level": "Level 1", "type": "Algebra", "file": "math.jsonl", "line": 1,
                    "format": "columns"}


def test_nested_fields_id_and_meta_by_dotted_path(tmp_path):
    path = tmp_path / "chats.parquet"
    pl.DataFrame({
        "conversation": [[{"role": "user", "text": "Reverse a list?"},
                          {"role": "assistant", "text": "lst[::-1]"}]],
        "info": [{"lang": "en", "topic": "python"}], "uid": ["c1"],
    }).write_parquet(path)
    res = convert(path, columns="prompt=conversation.0.text,response=conversation.1.text,"
                                "id=uid,meta.topic=info.topic")
    row = res.frame.row(0, named=True)
    assert row["id"] == "c1"
    assert _pairs(row["messages"]) == [("user", "Reverse a list?"), ("assistant", "lst[::-1]")]
    assert json.loads(row["meta"]) == {"topic": "python", "file": "chats.parquet", "line": 1,
                                       "format": "columns"}
    # the same conversation as a list of turns with a "text" content key
    whole = convert(path, columns="messages=conversation,id=uid").frame.row(0, named=True)
    assert whole["messages"] == row["messages"]


def test_text_rows_take_the_docs_path(tmp_path):
    path = tmp_path / "wiki.jsonl"
    write_jsonl([{"text": "Paris is in France.", "id": "w1"},
                 {"text": "## What is Lyon?\n\nA city.\n\n## Who lives there?\n\nPeople.",
                  "id": "w2"}], path)
    res = convert(path)  # a text without a question is set aside whatever on_error says
    assert res.rows_in == 3 == res.frame.height + res.rejected.height
    assert res.rejected.select("line", "field", "drop_reason").rows() == [
        (1, "text", "no_question")]
    assert [_pairs(m)[0][1] for m in res.frame["messages"]] == ["What is Lyon?",
                                                                "Who lives there?"]
    metas = [json.loads(m) for m in res.frame["meta"]]
    assert [(m["row_id"], m["line"], m["format"]) for m in metas] == [
        ("w2", 2, "docs"), ("w2", 2, "docs")]


def test_numbers_are_text_and_pairs_without_prompt_are_transcripts(tmp_path):
    path = tmp_path / "n.jsonl"
    write_jsonl([{"q": "2+2?", "a": 4}], path)
    assert _pairs(convert(path, columns="prompt=q,response=a").frame["messages"][0]) == [
        ("user", "2+2?"), ("assistant", "4")]
    path = tmp_path / "hh.jsonl"
    write_jsonl([{"good": "\n\nHuman: Hi\n\nAssistant: Hello!", "bad": "\n\nHuman: Hi\n\n"
                  "Assistant: Go away.", "s1": 0.9, "s2": "0.1"}], path)
    row = convert(path, columns="chosen=good,rejected=bad,chosen_score=s1,"
                                "rejected_score=s2").frame.row(0, named=True)
    assert _pairs(row["prompt"]) == [("user", "Hi")]
    assert (row["chosen_score"], row["rejected_score"]) == (0.9, 0.1)


def test_csv_cells_holding_json_lists(tmp_path):
    path = tmp_path / "c.csv"
    conv = json.dumps([{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}])
    hist = json.dumps([["Before?", "Yes."]])
    path.write_text("conv,q,a,h\n" + ",".join('"' + v.replace('"', '""') + '"'
                                               for v in (conv, "And now?", "Now.", hist)) + "\n")
    assert _pairs(convert(path, columns="messages=conv").frame["messages"][0]) == [
        ("user", "Hi"), ("assistant", "Hello")]
    assert _pairs(convert(path, columns="prompt=q,response=a,history=h").frame["messages"][0]) == [
        ("user", "Before?"), ("assistant", "Yes."), ("user", "And now?"), ("assistant", "Now.")]
    path.write_text('conv\n"[{""from"": ""human"",]"\n')
    with pytest.raises(InputError) as exc:
        convert(path, columns="messages=conv")
    assert (exc.value.line, exc.value.field) == (2, "conv")
    assert exc.value.detail.startswith("invalid JSON: ")


@pytest.mark.parametrize("mapping, message", [
    ("prompt=conversation.0.txt,response=conversation.1.text",
     "field 'conversation.0.txt': no key 'txt' in conversation.0 (its keys: role, text); "
     "read as prompt"),
    ("prompt=conversation.5.text,response=conversation.1.text",
     "field 'conversation.5.text': conversation is a list of 2, with no element '5'; "
     "read as prompt"),
    ("prompt=convo,response=uid",
     "field 'convo': no key 'convo' in the row (its keys: conversation, uid); read as prompt"),
    ("prompt=uid,response=conversation",
     "field 'conversation[0]': expected an object, got str"),
])
def test_errors_name_the_field_file_line_and_way_on(tmp_path, mapping, message):
    path = tmp_path / "c.jsonl"
    write_jsonl([{"conversation": ["x", "y"] if "uid," in mapping else
                  [{"role": "user", "text": "a"}, {"role": "assistant", "text": "b"}],
                  "uid": "u"}], path)
    with pytest.raises(InputError) as exc:
        convert(path, columns=mapping)
    assert str(exc.value) == f"{path}:1: {message} (columns {mapping}); {SKIP}"
    rejected = convert(path, columns=mapping, on_error="skip").rejected
    assert rejected.select("line", "drop_reason").rows() == [
        (1, "wrong_type" if "uid," in mapping else "missing_field")]


def test_a_blank_answer_in_a_detected_shape(tmp_path):
    path = tmp_path / "gsm8k.jsonl"
    write_jsonl([{"question": "a?", "answer": "b"}, {"question": "c?", "answer": "  "}], path)
    with pytest.raises(InputError) as exc:
        convert(path)
    assert str(exc.value) == (f"{path}:2: field 'answer': empty or whitespace-only text "
                              f"(columns prompt=question,response=answer); {SKIP}")


def test_an_unknown_shape_names_the_columns_flag(tmp_path):
    path = tmp_path / "u.jsonl"
    write_jsonl([{"q_text": "hi", "a_text": "hello"}], path)
    with pytest.raises(InputError) as exc:
        convert(path)
    assert str(exc.value).startswith(f"{path}:1: cannot tell the format from the keys a_text, "
                                     "q_text; expected one of: alpaca")
    assert str(exc.value).endswith("or say which field is which with --columns, e.g. "
                                   "--columns prompt=FIELD,response=FIELD (see `curate "
                                   "convert --help`)")
    assert convert(path, columns="prompt=q_text,response=a_text").frame.height == 1


@pytest.mark.parametrize("spec, message", [
    ("prompt", "--columns: 'prompt' is not TARGET=FIELD, e.g. prompt=question,response=answer"),
    ("prompt=q,answer=a", "--columns: unknown target 'answer'; targets: prompt, response, "
                          "system, history, messages, chosen, rejected, text, id, chosen_score, "
                          "rejected_score, meta.NAME"),
    ("prompt=q,prompt=r", "--columns: prompt is given twice (q, r)"),
    ("prompt=q", "--columns: give prompt and response; or prompt, chosen and rejected; or "
                 "chosen and rejected; or messages; or text (with system, history, id, "
                 "meta.NAME where they fit); got prompt"),
    ("messages=m,response=r", "--columns: give prompt and response; or prompt, chosen and "
                              "rejected; or chosen and rejected; or messages; or text (with "
                              "system, history, id, meta.NAME where they fit); got messages, "
                              "response"),
])
def test_bad_maps(spec, message):
    with pytest.raises(CurateError) as exc:
        ColumnMap.parse(spec)
    assert str(exc.value) == message


def test_map_with_a_format_or_a_run_folder_or_the_wrong_kind(tmp_path):
    path = tmp_path / "a.jsonl"
    write_jsonl([{"question": "a?", "answer": "b"}], path)
    with pytest.raises(CurateError, match="does not go with --format alpaca"):
        convert(path, format="alpaca", columns="prompt=question,response=answer")
    with pytest.raises(CurateError, match="--kind preference needs preference pairs, but "
                                          "--columns prompt=question,response=answer only"):
        convert(path, columns="prompt=question,response=answer", kind="preference")
    with pytest.raises(CurateError, match="is read with columns prompt=question,response=answer"
                                          ", which only makes SFT records"):
        convert(path, kind="preference")
    records = tmp_path / "records.parquet"
    convert(path).frame.write_parquet(records)
    with pytest.raises(CurateError, match="holds curate records"):
        convert(records, columns="prompt=question,response=answer")


def test_detection_keeps_the_known_formats_first():
    assert detect_columns({"instruction", "output"}) is not None  # but alpaca is detected first
    assert str(detect_columns({"question", "chosen", "rejected"})) == (
        "prompt=question,chosen=chosen,rejected=rejected")
    assert str(detect_columns({"text", "url"})) == "text=text"
    assert detect_columns({"foo", "bar"}) is None
