"""A column map works the same through every reader: JSON Lines, JSON, parquet, CSV, a saved HF
dataset and an fsspec URL; detected or given, the records are the same."""

import csv
import json
import uuid

import datasets
import fsspec
import polars as pl
import pytest

from curate.convert import convert
from curate.errors import InputError

ROWS = [{"query": "What is 3*3?", "response": "9", "topic": "math"},
        {"query": "Capital of Chile?", "response": "Santiago", "topic": "geo"}]
MAP = "prompt=query,response=response"
EXPECTED = [[("user", "What is 3*3?"), ("assistant", "9")],
            [("user", "Capital of Chile?"), ("assistant", "Santiago")]]


def _jsonl(folder):
    p = folder / "d.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    return p


def _json(folder):
    p = folder / "d.json"
    p.write_text(json.dumps({"data": ROWS}), encoding="utf-8")
    return p


def _parquet(folder):
    p = folder / "d.parquet"
    pl.DataFrame(ROWS).write_parquet(p)
    return p


def _csv(folder):
    p = folder / "d.csv"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(ROWS[0]))
        writer.writeheader()
        writer.writerows(ROWS)
    return p


def _hf(folder):
    p = folder / "ds"
    datasets.Dataset.from_list(ROWS).save_to_disk(str(p))
    return p


READERS = {"jsonl": _jsonl, "json": _json, "parquet": _parquet, "csv": _csv, "hf": _hf}


def _turns(frame):
    return [[(t["role"], t["content"]) for t in m] for m in frame["messages"]]


@pytest.mark.parametrize("reader", sorted(READERS))
def test_every_reader_detected_and_given(tmp_path, reader):
    path = READERS[reader](tmp_path)
    detected, given = convert(path), convert(path, columns=MAP)
    assert detected.columns == given.columns == {str(path): MAP}
    assert detected.frame.equals(given.frame)
    assert _turns(detected.frame) == EXPECTED
    assert [json.loads(m)["topic"] for m in detected.frame["meta"]] == ["math", "geo"]


def test_a_url(tmp_path):
    fs = fsspec.filesystem("memory")
    root = f"/t-{uuid.uuid4().hex[:8]}"
    try:
        fs.pipe_file(f"{root}/d.jsonl", _jsonl(tmp_path).read_bytes())
        url = f"memory://{root.lstrip('/')}/d.jsonl"
        detected, given = convert(url), convert(url, columns=MAP)
        assert detected.columns == {url: MAP}
        assert detected.frame.equals(given.frame)
        assert _turns(detected.frame) == EXPECTED
        fs.pipe_file(f"{root}/bad.jsonl", b'{"query": "a?"}\n')
        with pytest.raises(InputError) as exc:
            convert(f"memory://{root.lstrip('/')}/bad.jsonl", columns=MAP)
        assert str(exc.value).startswith(
            f"memory://{root.lstrip('/')}/bad.jsonl:1: field 'response': no key 'response' in "
            "the row (its keys: query); read as response")
    finally:
        fs.rm(root, recursive=True)


def test_a_folder_of_several_shapes_prints_a_map_per_file(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"question": "a?", "answer": "b"}) + "\n")
    (tmp_path / "b.jsonl").write_text(json.dumps({"instruction": "c", "output": "d"}) + "\n")
    (tmp_path / "c.jsonl").write_text(json.dumps({"problem": "e?", "solution": "f"}) + "\n")
    res = convert(tmp_path)
    assert res.formats == {str(tmp_path / "a.jsonl"): "columns",
                           str(tmp_path / "b.jsonl"): "alpaca",
                           str(tmp_path / "c.jsonl"): "columns"}
    assert res.columns == {str(tmp_path / "a.jsonl"): "prompt=question,response=answer",
                           str(tmp_path / "c.jsonl"): "prompt=problem,response=solution"}
