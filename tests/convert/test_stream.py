"""Conversion into part folders: files read as tasks of engine.map, pieces by (file, batch),
and what only the whole input decides (ids given twice, repeated content) decided across
files exactly as one pass over every file in order decides it."""

import json
from pathlib import Path

import polars as pl
import pytest

from curate.convert import convert, convert_parts, stream
from curate.engines.local import LocalEngine
from curate.errors import InputError
from curate.io.parts import Parts
from curate.records import assign_ids, frame_to_records
from tests.process_engine import ProcessEngine

ROOT = Path(__file__).resolve().parents[2]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _qa(i: int, **extra) -> dict:
    return {"instruction": f"Question {i}?", "output": f"Answer {i}.", **extra}


def test_parts_follow_files_and_batches(tmp_path):
    data = tmp_path / "in"
    data.mkdir()
    _jsonl(data / "a.jsonl", [_qa(i) for i in range(5)])
    _jsonl(data / "b.jsonl", [_qa(i) for i in range(5, 6)])
    _jsonl(data / "c.jsonl", [_qa(i) for i in range(6, 8)] + [{"instruction": "no output"}])
    res = convert_parts(data, tmp_path / "kept", tmp_path / "rej", rows=2, on_error="skip")
    # batches a: 2, 2, 1; b: 1; c: 2 (by file and batch); consecutive small batches are
    # joined while they fit in one piece of 2 rows
    assert [p.name for p in res.kept.files] == [f"part-0000{i}.parquet" for i in range(4)]
    assert res.kept.counts() == [2, 2, 2, 2]
    assert res.kept.read()["messages"].list.get(0).struct.field("content").to_list() == [
        f"Question {i}?" for i in range(8)]
    assert (res.rows_in, res.rows_out, res.drops) == (9, 8, {"missing_field": 1})
    assert res.rejected.read().select("file", "line", "field").rows() == [
        (str(data / "c.jsonl"), 3, "output")]
    assert res.formats == {str(data / f"{n}.jsonl"): "alpaca" for n in "abc"}


def test_the_demo_input_in_small_pieces_on_other_processes_gives_the_same_records(tmp_path):
    demo = ROOT / "pipelines" / "data" / "demo"
    whole = convert(demo, on_error="skip")
    res = convert_parts(demo, tmp_path / "kept", tmp_path / "rej", rows=7, on_error="skip",
                        engine=ProcessEngine())
    assert len(res.kept.files) > 10
    assert res.kept.read().equals(whole.frame)
    assert res.rejected.read().equals(whole.rejected)
    assert (res.rows_in, res.formats) == (whole.rows_in, whole.formats)
    assert sum(res.drops.values()) == whole.rejected.height
    # the layout does not depend on the engine: the same part files, byte for byte
    local = convert_parts(demo, tmp_path / "kept2", tmp_path / "rej2", rows=7,
                          on_error="skip", engine=LocalEngine())
    assert [f.read_bytes() for f in local.kept.files] == [f.read_bytes()
                                                          for f in res.kept.files]


def test_the_local_engine_in_worker_processes_writes_the_same_parts(tmp_path, monkeypatch):
    """Large inputs are converted in worker processes (CURATE_PROCESSES, here forced for a
    small one): the same part files, byte for byte."""
    import curate.in_process as ip

    demo = ROOT / "pipelines" / "data" / "demo"
    one = convert_parts(demo, tmp_path / "kept1", tmp_path / "rej1", rows=7, on_error="skip",
                        engine=LocalEngine())
    monkeypatch.setenv("CURATE_PROCESSES", "2")
    monkeypatch.setattr(ip, "PROCESS_MIN_BYTES", 1)
    seen = []
    real = ip._pool
    monkeypatch.setattr(ip, "_pool", lambda n: seen.append(n) or real(n))
    two = convert_parts(demo, tmp_path / "kept2", tmp_path / "rej2", rows=7, on_error="skip",
                        engine=LocalEngine())
    assert seen == [2]
    assert [f.read_bytes() for f in two.kept.files] == [f.read_bytes() for f in one.kept.files]
    assert two.rejected.read().equals(one.rejected.read())
    assert (two.rows_in, two.drops) == (one.rows_in, one.drops)


@pytest.mark.parametrize("bucket_rows", [None, 2])  # 2: a bucket per few rows
def test_repeated_content_across_files_gets_the_ids_of_one_pass(tmp_path, monkeypatch, bucket_rows):
    if bucket_rows:
        monkeypatch.setattr(stream, "BUCKET_ROWS", bucket_rows)
    """Rows without ids, the same content from one source (a ``source`` field) in two files
    and twice in one: the n-th repeat gets ``n`` in its id, counted over the files in order."""
    data = tmp_path / "in"
    data.mkdir()
    same = _qa(1, source="corpus")
    _jsonl(data / "a.jsonl", [same, _qa(2, source="corpus"), same])
    _jsonl(data / "b.jsonl", [_qa(3, source="corpus"), same, _qa(2, source="corpus")])
    res = convert_parts(data, tmp_path / "kept", tmp_path / "rej", rows=2,
                        engine=ProcessEngine())
    got = res.kept.read()
    records = frame_to_records(got.with_columns(pl.lit(None, pl.String).alias("id")))
    expected = [r["id"] for r in assign_ids(records)]
    assert got["id"].to_list() == expected
    assert got["id"].n_unique() == 6
    assert convert(data).frame["id"].to_list() == expected


@pytest.mark.parametrize("bucket_rows", [None, 2])  # 2: a bucket per few rows
def test_an_id_given_in_two_files_is_a_duplicate_in_the_later_one(tmp_path, monkeypatch, bucket_rows):
    if bucket_rows:
        monkeypatch.setattr(stream, "BUCKET_ROWS", bucket_rows)
    data = tmp_path / "in"
    data.mkdir()
    _jsonl(data / "a.jsonl", [_qa(1, id="x1"), _qa(2, id="dup"), _qa(3, id="x3")])
    _jsonl(data / "b.jsonl", [_qa(4, id="b1"), _qa(5, id="dup"), _qa(6, id="b3")])
    res = convert_parts(data, tmp_path / "kept", tmp_path / "rej", rows=2, on_error="skip",
                        engine=ProcessEngine())
    assert res.kept.read()["id"].to_list() == ["x1", "dup", "x3", "b1", "b3"]
    assert res.rejected.read().select("file", "line", "drop_reason", "detail").rows() == [
        (str(data / "b.jsonl"), 2, "duplicate_id", "id 'dup' was already used at line 2")]
    assert (res.rows_in, res.rows_out, res.drops) == (6, 5, {"duplicate_id": 1})
    with pytest.raises(InputError) as err:
        convert_parts(data, tmp_path / "kept", tmp_path / "rej", rows=2)
    assert str(err.value).startswith(f"{data / 'b.jsonl'}:2: field 'id': id 'dup' was already "
                                     "used at line 2")


def test_parquet_row_groups_and_a_limit_across_files(tmp_path):
    data = tmp_path / "in"
    data.mkdir()
    rows = [_qa(i) for i in range(10)]
    pl.DataFrame(rows[:7]).write_parquet(data / "a.parquet", row_group_size=3)
    pl.DataFrame(rows[7:]).write_parquet(data / "b.parquet")
    res = convert_parts(data, tmp_path / "kept", tmp_path / "rej", rows=4)
    assert res.kept.counts() == [4, 3, 3]
    assert res.kept.read()["meta"].str.json_path_match("$.line").to_list() == [
        str(i) for i in [1, 2, 3, 4, 5, 6, 7, 1, 2, 3]]
    limited = convert_parts(data, tmp_path / "kept", tmp_path / "rej", rows=4, limit=8)
    assert limited.rows_in == 8
    assert limited.kept.read()["messages"].list.get(0).struct.field("content").to_list() == [
        f"Question {i}?" for i in range(8)]


def test_a_run_folder_of_parts_is_read_piece_by_piece(tmp_path):
    run = tmp_path / "run"
    convert_parts(ROOT / "pipelines" / "data" / "demo", run / "data.parquet",
                  tmp_path / "rej", rows=50, on_error="skip")
    (run / "manifest.json").write_text("{}")
    data = Parts(run / "data.parquet")
    assert len(data.files) > 3
    out = convert_parts(run, tmp_path / "kept", tmp_path / "rej2", rows=40, limit=130,
                        kind="sft")
    got = out.kept.read()
    expected, left = [], 130  # pieces of the input's parts, cut at the limit
    for piece in data.pieces(40):
        if left > 0:
            expected.append(min(piece.length, left))
            left -= piece.length
    assert out.kept.counts() == expected and len(expected) > 3
    assert got["id"].to_list() == data.read()["id"].head(130).to_list()
    assert set(got["kind"]) == {"sft"} and got["prompt"].is_null().all()
    assert out.formats == {str(f): "records" for f in data.files}  # as the manifest lists them
