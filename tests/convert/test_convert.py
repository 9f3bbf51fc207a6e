import json

import datasets
import pytest

from curate.convert import FORMATS, convert, detect_format
from curate.errors import CurateError, InputError
from curate.io import write_jsonl
from curate.records import frame_to_records

from ..conftest import write_alpaca_eval
from .test_docs import FAQ_RECORDS

ALPACA = {"instruction": "Say hi", "output": "hi"}
SHAREGPT = {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}
HH = {"chosen": "\n\nHuman: q\n\nAssistant: good", "rejected": "\n\nHuman: q\n\nAssistant: bad"}


def test_formats_list():
    assert {"auto", "records", "docs", "alpaca", "sharegpt", "openai", "dolly", "hh-rlhf",
            "alpaca-eval"} <= set(FORMATS)


@pytest.mark.parametrize("row,name", [
    ({"instruction": "", "output_1": "", "output_2": "", "preference": 1, "output": ""},
     "alpaca-eval-annotations"),
    ({"instruction": "", "output": "", "generator": ""}, "alpaca-eval-outputs"),
    ({"instruction": "", "input": "", "output": ""}, "alpaca"),
    ({"kind": "sft", "messages": []}, "records"),
    ({"prompt": [], "chosen": [], "rejected": []}, "records"),
    ({"messages": []}, "openai"),
    (SHAREGPT, "sharegpt"),
    (HH, "hh-rlhf"),
    ({"instruction": "", "context": "", "response": ""}, "dolly"),
    ({"text": "x"}, None),
])
def test_detect_format(row, name):
    assert detect_format(row) == name


def test_ids_are_stable_and_distinct_for_repeats(tmp_path):
    p = tmp_path / "a.jsonl"
    write_jsonl([ALPACA, ALPACA, {"instruction": "Other", "output": "x"}, ALPACA], p)
    first, second = convert(p), convert(p)
    ids = first.frame["id"].to_list()
    assert ids == second.frame["id"].to_list()
    assert len(set(ids)) == 4 and all(len(i) == 16 for i in ids)


def test_input_ids_kept_and_duplicates_rejected(tmp_path):
    p = tmp_path / "a.jsonl"
    write_jsonl([ALPACA | {"id": 7}, ALPACA | {"id": "b"}, ALPACA | {"id": "7"}], p)
    res = convert(p, on_error="skip")
    assert res.frame["id"].to_list() == ["7", "b"]
    assert res.rejected.select("line", "field", "drop_reason").rows() == [(3, "id", "duplicate_id")]
    with pytest.raises(InputError) as exc:
        convert(p)
    assert (exc.value.line, exc.value.field) == (3, "id")
    assert "already used at line 1" in str(exc.value)


def test_rows_of_another_format_in_a_file(tmp_path):
    p = tmp_path / "a.jsonl"
    write_jsonl([{"note": "?"}, ALPACA, SHAREGPT, {"instruction": "x"}], p)
    res = convert(p, on_error="skip")
    assert res.formats == {str(p): "alpaca"}
    assert [json.loads(m)["format"] for m in res.frame["meta"]] == ["alpaca", "sharegpt"]
    assert res.rejected.select("line", "field", "drop_reason").rows() == [
        (1, None, "unknown_format"), (4, "output", "missing_field")]
    with pytest.raises(InputError) as exc:
        convert(p)
    assert exc.value.line == 1 and "cannot tell the format" in str(exc.value)


def test_forced_format(tmp_path):
    p = tmp_path / "a.jsonl"
    write_jsonl([ALPACA], p)
    with pytest.raises(InputError) as exc:
        convert(p, format="sharegpt")
    assert (exc.value.line, exc.value.field) == (1, "conversations")
    assert str(exc.value) == (f"{p}:1: field 'conversations': missing field 'conversations' "
                              "(reading it as sharegpt); --on-error skip (on_error: skip in a "
                              "recipe) keeps such rows in rejected/ with their reason")
    assert convert(p, format="alpaca").formats == {str(p): "alpaca"}
    with pytest.raises(CurateError, match="unknown format"):
        convert(p, format="yaml")


def test_kind_options(tmp_path):
    p = tmp_path / "a.jsonl"
    write_jsonl([ALPACA], p)
    with pytest.raises(CurateError, match="only makes SFT records"):
        convert(p, kind="preference")
    with pytest.raises(CurateError, match="only makes SFT records"):
        convert(p, format="alpaca", kind="preference")
    h = tmp_path / "hh.jsonl"
    write_jsonl([HH], h)
    (rec,) = frame_to_records(convert(h, kind="sft").frame)
    assert rec["kind"] == "sft"
    assert rec["messages"] == [{"role": "user", "content": "q"},
                               {"role": "assistant", "content": "good"}]
    r = tmp_path / "r.jsonl"
    write_jsonl([{"kind": "sft", "messages": [{"role": "user", "content": "q"},
                                              {"role": "assistant", "content": "a"}]}], r)
    res = convert(r, kind="preference", on_error="skip")
    assert res.rejected.select("field", "drop_reason").rows() == [("kind", "wrong_kind")]


def test_limit_counts_input_rows(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text("\n".join([json.dumps(ALPACA), "{bad", json.dumps(ALPACA), json.dumps(ALPACA)]))
    res = convert(p, on_error="skip", limit=3)
    assert (res.rows_in, res.frame.height, res.rejected.height) == (3, 2, 1)
    assert convert(p, on_error="skip", limit=0).rows_in == 0


def test_folder_with_mixed_formats(tmp_path):
    write_jsonl([ALPACA], tmp_path / "a.jsonl")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.json").write_text(json.dumps({"data": [SHAREGPT, SHAREGPT]}))
    (tmp_path / "c.csv").write_text("instruction,context,response,category\nq,,a,open_qa\n")
    write_jsonl([HH], tmp_path / "d.ndjson")
    (tmp_path / "skip.bin").write_bytes(b"\x00")
    res = convert(tmp_path)
    assert res.formats == {str(tmp_path / "a.jsonl"): "alpaca", str(tmp_path / "c.csv"): "dolly",
                           str(tmp_path / "d.ndjson"): "hh-rlhf",
                           str(tmp_path / "sub" / "b.json"): "sharegpt"}
    assert res.frame["kind"].to_list() == ["sft", "sft", "preference", "sft", "sft"]
    assert res.frame["source"].to_list() == ["a.jsonl", "c.csv", "d.ndjson", "b.json", "b.json"]
    assert res.rows_in == 5 and res.frame["id"].n_unique() == 5


def test_hf_dataset_dict_split_goes_to_meta(tmp_path):
    ds = datasets.Dataset.from_list([ALPACA | {"source": "", "lang": "en"}])
    datasets.DatasetDict({"train": ds, "test": ds}).save_to_disk(str(tmp_path / "hf"))
    res = convert(tmp_path / "hf")
    train, test = frame_to_records(res.frame)
    assert train["messages"] == [{"role": "user", "content": "Say hi"},
                                 {"role": "assistant", "content": "hi"}]
    assert train["meta"] == {"lang": "en", "split": "train", "file": "train", "line": 1,
                             "format": "alpaca"}
    assert test["meta"]["split"] == "test"
    assert train["source"] == test["source"] == "hf"
    assert res.frame["id"].n_unique() == 2


def test_docs_need_sft(tmp_path):
    (tmp_path / "a.md").write_text("# Why?\n\nBecause.\n")
    with pytest.raises(CurateError, match="only makes SFT records"):
        convert(tmp_path, format="docs", kind="preference")
    write_jsonl([ALPACA], tmp_path / "b.jsonl")
    with pytest.raises(InputError, match="no row files"):
        convert(tmp_path / "a.md", format="alpaca")


def test_docs_are_dispatched(faq_corpus, tmp_path):
    pytest.importorskip("curate.convert.docs")
    faq = faq_corpus.path
    res = convert(faq, on_error="skip")
    assert set(res.formats.values()) == {"docs"} and len(res.formats) == len(faq_corpus.files)
    assert res.frame.height == sum(FAQ_RECORDS[name] for name in faq_corpus.files)
    assert res.rows_in == res.frame.height + res.rejected.height
    rec = frame_to_records(res.frame.head(1))[0]
    assert rec["kind"] == "sft" and rec["meta"]["format"] == "docs"
    assert rec["meta"]["file"] == faq_corpus.files[0] and rec["source"]
    only = convert(faq, format="docs", on_error="skip")
    assert only.frame["id"].to_list() == res.frame["id"].to_list()
    with pytest.raises(InputError, match="no document files"):
        convert(write_alpaca_eval(tmp_path / "alpaca_eval").path, format="docs")
