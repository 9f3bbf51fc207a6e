"""Bad input through every reader: stop with file, line and field, or keep a rejected row."""

import json

import polars as pl
import pytest

from curate.convert import REJECTED_SCHEMA, convert
from curate.errors import InputError

GOOD = {"instruction": "Say hi", "output": "hi"}


def jsonl(tmp_path, *lines: bytes):
    p = tmp_path / "in.jsonl"
    p.write_bytes(b"\n".join(lines) + b"\n")
    return p


def good_line() -> bytes:
    return json.dumps(GOOD).encode()


CASES = {
    # name: (builder, line, field, reason)
    "jsonl-broken": (lambda t: jsonl(t, good_line(), b'{"instruction": "x",'), 2, None,
                     "invalid_json"),
    "jsonl-missing": (lambda t: jsonl(t, good_line(), b'{"instruction": "x", "output": null}'),
                      2, "output", "missing_field"),
    "jsonl-wrong-type": (lambda t: jsonl(t, good_line(), b'{"instruction": "x", "output": 5}'),
                         2, "output", "wrong_type"),
    "jsonl-not-utf8": (lambda t: jsonl(t, good_line(), b'{"instruction": "\xff", "output": "y"}'),
                       2, None, "invalid_utf8"),
    "jsonl-not-object": (lambda t: jsonl(t, good_line(), b'["x"]'), 2, None, "not_an_object"),
    "json-missing": (lambda t: _write(t / "in.json", json.dumps([GOOD, {"instruction": "x"}])),
                     2, "output", "missing_field"),
    "json-wrong-type": (lambda t: _write(t / "in.json", json.dumps(
        [GOOD, GOOD | {"history": "abc"}])), 2, "history", "wrong_type"),
    "csv-broken": (lambda t: _write(t / "in.csv", "instruction,output\na,b\nc,d,e\n"), 3, None,
                   "invalid_csv"),
    "csv-empty-output": (lambda t: _write(t / "in.csv", "instruction,output\na,b\nc,\n"), 3,
                         "output", "empty_turn"),
    "csv-wrong-type": (lambda t: _write(t / "in.csv", "instruction,output,history\na,b,\nc,d,x\n"),
                       3, "history", "wrong_type"),
    "csv-not-utf8": (lambda t: _write(t / "in.csv", b"instruction,output\na,b\nc\xff,d\n"), 3,
                     None, "invalid_utf8"),
    "parquet-missing": (lambda t: _parquet(t, {"instruction": ["a", "c"], "output": ["b", None]}),
                        2, "output", "missing_field"),
    "parquet-wrong-type": (lambda t: _parquet(t, {"instruction": ["a", "c"], "output": ["b", "d"],
                                                  "history": [None, "abc"]}),
                           2, "history", "wrong_type"),
}


def _write(p, content):
    (p.write_bytes if isinstance(content, bytes) else p.write_text)(content)
    return p


def _parquet(tmp_path, columns):
    p = tmp_path / "in.parquet"
    pl.DataFrame(columns).write_parquet(p)
    return p


@pytest.mark.parametrize("case", sorted(CASES))
def test_raise_names_file_line_and_field(tmp_path, case):
    build, line, field, _ = CASES[case]
    path = build(tmp_path)
    with pytest.raises(InputError) as exc:
        convert(path, on_error="raise")
    err = exc.value
    assert (err.file, err.line, err.field) == (str(path), line, field)
    where = f"{path}:{line}: " + (f"field '{field}': " if field else "")
    assert str(err).startswith(where)


@pytest.mark.parametrize("case", sorted(CASES))
def test_skip_keeps_a_rejected_row(tmp_path, case):
    build, line, field, reason = CASES[case]
    path = build(tmp_path)
    res = convert(path, on_error="skip")
    assert res.rejected.schema == pl.Schema(REJECTED_SCHEMA)
    assert res.rejected.select("file", "line", "field", "drop_reason").rows() == [
        (str(path), line, field, reason)]
    assert res.frame.height == 1
    assert res.rows_in == res.frame.height + res.rejected.height == 2
    assert res.rejected["raw"][0] != ""


@pytest.mark.parametrize("name,content,expected", [
    ("e.jsonl", b"", "JSON Lines"), ("e.jsonl", b"\n  \n", "JSON Lines"),
    ("e.json", b" ", "a JSON array"), ("e.csv", b"", "CSV"), ("e.parquet", b"", "a parquet file"),
])
@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_empty_file_is_an_error(tmp_path, name, content, expected, on_error):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InputError) as exc:
        convert(p, on_error=on_error)
    assert exc.value.file == str(p)
    assert exc.value.detail.startswith(f"empty file, expected {expected}")


def test_broken_json_document_is_an_error_even_when_skipping(tmp_path):
    p = tmp_path / "in.json"
    p.write_text('[\n{"instruction": "a", "output": "b"},\n{"instruction": "c" "output": "d"}\n]')
    with pytest.raises(InputError) as exc:
        convert(p, on_error="skip")
    assert (exc.value.file, exc.value.line) == (str(p), 3)


def test_raw_keeps_the_broken_text(tmp_path):
    p = jsonl(tmp_path, b'{"instruction": "x",')
    res = convert(p, on_error="skip")
    assert res.rejected.row(0, named=True) == {
        "file": str(p), "line": 1, "field": None, "drop_reason": "invalid_json",
        "detail": "invalid JSON: Expecting property name enclosed in double quotes at column 21",
        "raw": '{"instruction": "x",'}
    assert res.frame.height == 0 and res.rows_in == 1


def test_mixed_errors_accounting(tmp_path):
    lines = [good_line(), b"{oops", b'{"instruction": "x", "output": " "}', good_line(),
             b'{"instruction": "\xfe", "output": "y"}', b'{"instruction": "x"}', b'"str"']
    res = convert(jsonl(tmp_path, *lines), on_error="skip")
    assert res.rows_in == 7 == res.frame.height + res.rejected.height
    assert res.rejected.select("line", "drop_reason").rows() == [
        (2, "invalid_json"), (3, "empty_turn"), (5, "invalid_utf8"), (6, "missing_field"),
        (7, "not_an_object")]
