import polars as pl
import pytest

from curate.errors import InputError
from curate.io import iter_rows


def test_parquet_rows_and_lines(tmp_path):
    p = tmp_path / "t.parquet"
    pl.DataFrame({"a": [1, 2, 3], "b": [["x"], None, []]}).write_parquet(p)
    out = list(iter_rows(p))
    assert [(r.line, r.data) for r in out] == [
        (1, {"a": 1, "b": ["x"]}), (2, {"a": 2, "b": None}), (3, {"a": 3, "b": []})]


def test_empty_and_broken_parquet(tmp_path):
    p = tmp_path / "e.parquet"
    p.write_bytes(b"")
    with pytest.raises(InputError, match="empty file, expected a parquet file"):
        list(iter_rows(p))
    p.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="not a readable parquet file"):
        list(iter_rows(p))


def test_csv_lines_follow_the_file(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes(b'instruction,output\n"two\nlines",x\n\nplain,y\nshort\n')
    out = list(iter_rows(p))
    assert [(r.line, r.data) for r in out[:2]] == [
        (2, {"instruction": "two\nlines", "output": "x"}), (5, {"instruction": "plain", "output": "y"})]
    assert out[2].line == 6 and out[2].error.reason == "invalid_csv"
    assert out[2].error.message == "expected 2 fields as in the header, got 1"


def test_csv_non_utf8_row(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes(b"a,b\nok,1\nbad\xff,2\n")
    out = list(iter_rows(p))
    assert out[0].data == {"a": "ok", "b": "1"}
    assert (out[1].line, out[1].error.reason) == (3, "invalid_utf8")
    assert out[1].error.message == "not valid UTF-8 at byte 12"


@pytest.mark.parametrize("content", [b"", b"\n \n"])
def test_empty_csv(tmp_path, content):
    p = tmp_path / "e.csv"
    p.write_bytes(content)
    with pytest.raises(InputError) as exc:
        list(iter_rows(p))
    assert exc.value.file == str(p)
    assert exc.value.detail == "empty file, expected CSV with a header row"


def test_header_only_csv_has_no_rows(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("a,b\n")
    assert list(iter_rows(p)) == []
