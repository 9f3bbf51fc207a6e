import gzip

import pytest

from curate.errors import InputError
from curate.io import iter_rows, write_jsonl


def rows(path):
    return list(iter_rows(path))


def test_lines_blank_lines_and_crlf(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'{"a": 1}\r\n\n   \n{"a": "\xc3\xa9"}\n')
    out = rows(p)
    assert [(r.line, r.data) for r in out] == [(1, {"a": 1}), (4, {"a": "é"})]
    assert all(r.file == str(p) and r.error is None for r in out)


def test_broken_line_not_object_and_bad_utf8(tmp_path):
    p = tmp_path / "b.ndjson"
    p.write_bytes(b'{"a": 1}\n{"a": \n[1, 2]\n{"a": "x\xff"}\n')
    out = rows(p)
    assert [r.line for r in out] == [1, 2, 3, 4]
    assert out[1].error.reason == "invalid_json"
    assert out[1].error.message.startswith("invalid JSON: Expecting value")
    assert out[1].raw == '{"a": '
    assert out[2].error.reason == "not_an_object"
    assert out[3].error.reason == "invalid_utf8"
    # byte offset in the file: 9 + 7 + 7 bytes of earlier lines, then '{"a": "x' is 8 bytes
    assert out[3].error.message == "not valid UTF-8 at byte 31"
    assert out[3].raw == '{"a": "x\ufffd"}'


@pytest.mark.parametrize("content", [b"", b"  \n\n\t\n"])
def test_empty_file(tmp_path, content):
    p = tmp_path / "e.jsonl"
    p.write_bytes(content)
    with pytest.raises(InputError) as exc:
        rows(p)
    assert exc.value.file == str(p)
    assert "empty file, expected JSON Lines" in str(exc.value)


def test_gzip_and_bom(tmp_path):
    p = tmp_path / "c.jsonl.gz"
    with gzip.open(p, "wb") as fh:
        fh.write(b'\xef\xbb\xbf{"a": 1}\n{"a": 2}\n')
    assert [r.data for r in rows(p)] == [{"a": 1}, {"a": 2}]


def test_write_jsonl_round_trip(tmp_path):
    p = tmp_path / "sub" / "out.jsonl"
    n = write_jsonl(iter([{"t": "é\n"}, {"t": 2}]), p)
    assert n == 2
    assert p.read_text("utf-8") == '{"t": "é\\n"}\n{"t": 2}\n'
    assert [r.data for r in rows(p)] == [{"t": "é\n"}, {"t": 2}]


@pytest.mark.parametrize("name", ["x.jsonl.gz", "x.json.gz", "x.csv.gz"])
def test_corrupt_gzip(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(gzip.compress(b'{"a": 1}\n' * 100)[:-20])
    with pytest.raises(InputError) as exc:
        rows(p)
    assert exc.value.file == str(p) and "not a readable gzip file" in str(exc.value)
