"""--encoding: text files in another encoding are read through every text reader; the UTF-8
error names the way on."""

import gzip
import json

import pytest

from curate.convert import convert
from curate.errors import CurateError, InputError
from curate.io import iter_documents, iter_rows
from curate.io.encoding import check_encoding

HINT = "if the file is in another encoding, name it with --encoding (e.g. --encoding latin-1)"
ROW = {"question": "¿Qué es un café?", "answer": "Una bebida; en Perú se toma mucho."}


def _latin1_jsonl(tmp_path, name="l1.jsonl"):
    p = tmp_path / name
    data = (json.dumps(ROW, ensure_ascii=False) + "\n").encode("latin-1")
    p.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return p


@pytest.mark.parametrize("name", ["l1.jsonl", "l1.jsonl.gz"])
def test_latin1_jsonl(tmp_path, name):
    p = _latin1_jsonl(tmp_path, name)
    with pytest.raises(InputError) as exc:
        convert(p)
    assert str(exc.value) == (
        f"{p}:1: not valid UTF-8 at byte 14; {HINT}; --on-error skip (on_error: skip in a "
        "recipe) keeps such rows in rejected/ with their reason")
    res = convert(p, encoding="latin-1")
    assert res.frame["messages"][0][0]["content"] == "¿Qué es un café?"


def test_json_csv_and_documents(tmp_path):
    (tmp_path / "a.json").write_bytes(json.dumps([ROW], ensure_ascii=False).encode("cp1252"))
    (tmp_path / "b.csv").write_bytes("question,answer\nCafé?,Sí – claro.\n".encode("cp1252"))
    (tmp_path / "c.md").write_bytes("## Qué es esto?\n\nUn café.\n".encode("cp1252"))
    for name in ("a.json", "b.csv", "c.md"):
        with pytest.raises(InputError) as exc:
            convert(tmp_path / name)
        assert HINT in str(exc.value) and "not valid UTF-8 at byte" in str(exc.value)
    rows = [r.data for r in iter_rows(tmp_path, encoding="cp1252")]
    assert rows == [ROW, {"question": "Café?", "answer": "Sí – claro."}]
    assert [d.text for d in iter_documents(tmp_path, encoding="cp1252")] == [
        "## Qué es esto?\n\nUn café.\n"]
    assert convert(tmp_path, encoding="cp1252").frame.height == 3


def test_utf16_is_decoded_whole(tmp_path):
    p = tmp_path / "u.csv"
    p.write_bytes("prompt,response\nCafé?,Sí.\n".encode("utf-16"))
    assert [r.data for r in iter_rows(p, encoding="utf-16")] == [
        {"prompt": "Café?", "response": "Sí."}]


def test_a_byte_that_is_not_in_the_encoding(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'{"question": "a?", "answer": "b"}\n{"question": "\x81", "answer": "c"}\n')
    res = convert(p, encoding="cp1252", on_error="skip")
    assert res.rejected.select("line", "drop_reason", "detail").rows() == [
        (2, "invalid_encoding", "not valid cp1252 at byte 48")]


def test_unknown_encoding():
    with pytest.raises(CurateError, match="unknown encoding 'latin-9x'"):
        check_encoding("latin-9x")
    assert check_encoding("Latin-1") == "iso8859-1"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_utf16_or_utf32_file_with_a_byte_order_mark_is_read_by_its_mark(tmp_path, codec):
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(codec, b"")
    (tmp_path / "a.jsonl").write_bytes(bom + (json.dumps(ROW, ensure_ascii=False) + "\n")
                                       .encode(codec))
    (tmp_path / "b.json").write_bytes(bom + json.dumps([ROW], ensure_ascii=False).encode(codec))
    (tmp_path / "c.csv").write_bytes(bom + "question,answer\nCafé?,Sí – claro.\n".encode(codec))
    (tmp_path / "d.md").write_bytes(bom + "## Qué es esto?\n\nUn café.\n".encode(codec))
    res = convert(tmp_path)  # the default encoding, UTF-8: the mark says otherwise
    assert res.rejected.height == 0
    assert [m[0]["content"] for m in res.frame["messages"]] == [
        "¿Qué es un café?", "¿Qué es un café?", "Café?", "Qué es esto?"]


def test_a_utf16_document_with_a_byte_order_mark(tmp_path):
    p = tmp_path / "faq.txt"
    p.write_bytes("Q: Why tea?\nA: It is warm.\n".encode("utf-16"))
    assert [d.text for d in iter_documents(p)] == ["Q: Why tea?\nA: It is warm.\n"]
