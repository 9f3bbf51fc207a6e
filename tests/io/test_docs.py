import pytest

from curate.errors import InputError
from curate.io import iter_documents


def test_real_rst_corpus(faq_corpus):
    docs = list(iter_documents(faq_corpus.path))  # COPYRIGHT (no suffix) is not a document
    names = [d.file.rsplit("/", 1)[-1] for d in docs]
    assert names == faq_corpus.files
    assert docs[0].file == str(faq_corpus.path / faq_corpus.files[0])
    assert "\r" not in docs[0].text and "?" in docs[0].text


def test_suffixes_order_and_line_endings(tmp_path):
    for name in ("b.md", "a.markdown", "c.rst", "d.txt", "e.jsonl", ".hidden.md"):
        (tmp_path / name).write_bytes(b"T\r\nx\r\n")
    docs = list(iter_documents(tmp_path))
    assert [d.file for d in docs] == [str(tmp_path / n) for n in ("a.markdown", "b.md", "c.rst", "d.txt")]
    assert docs[0].text == "T\nx\n"


def test_undecodable_document(tmp_path):
    p = tmp_path / "x.md"
    p.write_bytes(b"ok\nbad \xfe here\n")
    with pytest.raises(InputError) as exc:
        list(iter_documents(p))
    assert exc.value.file == str(p) and exc.value.line == 2
    assert "not valid UTF-8 at byte 7" in str(exc.value)


def test_no_documents(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"a": 1}\n')
    with pytest.raises(InputError, match="no document files"):
        list(iter_documents(tmp_path))
