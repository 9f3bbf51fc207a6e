import json

import pytest

from curate.errors import InputError
from curate.io import iter_rows


def read(tmp_path, text, name="d.json"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p, list(iter_rows(p))


def test_array_of_objects(tmp_path):
    p, out = read(tmp_path, json.dumps([{"a": 1}, 5, {"a": 2}]))
    assert [(r.line, r.data) for r in out] == [(1, {"a": 1}), (2, None), (3, {"a": 2})]
    assert out[1].error.reason == "not_an_object" and out[1].raw == "5"


def test_wrapper_object(tmp_path):
    _, out = read(tmp_path, json.dumps({"version": 2, "data": [{"a": 1}, {"a": 2}]}))
    assert [r.data for r in out] == [{"a": 1}, {"a": 2}]


def test_single_conversation_object_is_one_row(tmp_path):
    row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    _, out = read(tmp_path, json.dumps(row))
    assert [r.data for r in out] == [row]


def test_json_lines_in_a_json_file(tmp_path):
    _, out = read(tmp_path, '{"a": 1}\n{"a": 2}\n{"a"\n')
    assert [r.line for r in out] == [1, 2, 3]
    assert out[2].error.reason == "invalid_json"


def test_unparseable_json_names_the_line(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('[\n  {"a": 1},\n  {"a": 2,}\n]\n')
    with pytest.raises(InputError) as exc:
        list(iter_rows(p))
    assert exc.value.file == str(p) and exc.value.line == 3
    assert str(exc.value).startswith(f"{p}:3: invalid JSON")


def test_non_utf8_json_names_line_and_byte(tmp_path):
    p = tmp_path / "bad.json"
    p.write_bytes(b'[\n{"a": "\xff"}\n]')
    with pytest.raises(InputError) as exc:
        list(iter_rows(p))
    assert exc.value.line == 2
    assert str(exc.value) == (f"{p}:2: not valid UTF-8 at byte 9; if the file is in another "
                              "encoding, name it with --encoding (e.g. --encoding latin-1)")


@pytest.mark.parametrize("content", ["", " \n "])
def test_empty_json(tmp_path, content):
    p = tmp_path / "e.json"
    p.write_text(content)
    with pytest.raises(InputError, match="empty file, expected a JSON array of objects"):
        list(iter_rows(p))


def test_gzipped_alpaca_eval_file(alpaca_eval_files):
    p = alpaca_eval_files.path / "text_davinci_003.model_outputs.json.gz"
    out = list(iter_rows(p))
    assert len(out) == alpaca_eval_files.rows
    assert out[-1].line == alpaca_eval_files.rows
    assert set(out[0].data) == {"instruction", "output", "generator", "dataset"}
