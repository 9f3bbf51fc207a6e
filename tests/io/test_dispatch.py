import json

import polars as pl
import pytest

from curate.errors import InputError
from curate.io import input_files, is_record_input, iter_rows, read_records
from curate.record_schema import RECORD_COLUMNS, RECORD_SCHEMA
from curate.records import records_to_frame


def test_folder_recursion_sorted_hidden_and_unknown_skipped(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.jsonl").write_text('{"a": 0}\n')
    (tmp_path / "b" / "z.jsonl").write_text('{"a": 3}\n')
    (tmp_path / "a.csv").write_text("a\n1\n")
    (tmp_path / "c.json").write_text('[{"a": 4}]')
    (tmp_path / ".hidden.jsonl").write_text('{"a": 9}\n')
    (tmp_path / "notes.xyz").write_text("whatever")
    (tmp_path / "readme.md").write_text("# doc")
    assert input_files(tmp_path) == [tmp_path / "a.csv", tmp_path / "b" / "z.jsonl",
                                     tmp_path / "c.json", tmp_path / "readme.md"]
    out = list(iter_rows(tmp_path))
    assert [(r.file, r.data) for r in out] == [
        (str(tmp_path / "a.csv"), {"a": "1"}), (str(tmp_path / "b" / "z.jsonl"), {"a": 3}),
        (str(tmp_path / "c.json"), {"a": 4})]
    with pytest.raises(InputError, match="read it with the docs format"):
        list(iter_rows(tmp_path, skip_docs=False))


def test_bad_arguments(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        input_files(tmp_path / "missing.jsonl")
    (tmp_path / "x.xlsx").write_text("x")
    with pytest.raises(InputError) as exc:
        list(iter_rows(tmp_path / "x.xlsx"))
    assert ".jsonl" in str(exc.value) and ".parquet" in str(exc.value) and ".csv" in str(exc.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no readable files"):
        list(iter_rows(tmp_path / "empty"))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# a")
    with pytest.raises(InputError, match="only document files"):
        list(iter_rows(tmp_path / "docs"))


def _records_frame():
    return records_to_frame([{"id": "a", "kind": "sft", "source": "s", "meta": {"k": 1},
                              "messages": [{"role": "user", "content": "q"},
                                           {"role": "assistant", "content": "a"}]}])


def test_record_inputs(tmp_path):
    df = _records_frame().with_columns(toxicity=pl.lit(0.5))
    df.write_parquet(tmp_path / "records.parquet")
    pl.DataFrame({"a": [1]}).write_parquet(tmp_path / "plain.parquet")
    run = tmp_path / "run"
    run.mkdir()
    df.write_parquet(run / "data.parquet")
    (run / "manifest.json").write_text(json.dumps({"rows_in": 1}))
    (run / "rejected").mkdir()
    pl.DataFrame({"a": [1]}).write_parquet(run / "rejected" / "01_x.parquet")
    assert is_record_input(tmp_path / "records.parquet") and is_record_input(run)
    assert not is_record_input(tmp_path / "plain.parquet")
    assert not is_record_input(tmp_path)
    got = read_records(run)
    assert got.columns == [*RECORD_COLUMNS, "toxicity"]
    assert got.schema["messages"] == RECORD_SCHEMA["messages"]
    assert got.row(0, named=True)["meta"] == '{"k": 1}'
    # a run folder inside a folder covers its data.parquet only
    assert input_files(tmp_path) == [tmp_path / "plain.parquet", tmp_path / "records.parquet",
                                     run / "data.parquet"]


def test_read_records_rejects_plain_parquet(tmp_path):
    pl.DataFrame({"a": [1]}).write_parquet(tmp_path / "plain.parquet")
    with pytest.raises(InputError, match="missing columns id, kind"):
        read_records(tmp_path / "plain.parquet")


def test_a_run_folder_whose_data_is_a_folder_of_parts(tmp_path):
    from curate.io.dispatch import is_part_folder, record_input_columns
    from curate.io.parts import write_parts

    records = records_to_frame([{"kind": "sft", "source": "s", "id": f"r{i}", "messages": [
        {"role": "user", "content": f"q{i}?"}, {"role": "assistant", "content": "a"}]}
        for i in range(5)]).with_columns(pl.lit(0.5).alias("toxicity"))
    run = tmp_path / "runs" / "run"
    parts = write_parts(records, run / "data.parquet", rows=2)
    (run / "manifest.json").write_text("{}")
    assert is_record_input(run) and is_part_folder(run / "data.parquet")
    assert is_record_input(run / "data.parquet")  # a part folder of records, given itself
    assert read_records(run).equals(records) and read_records(run / "data.parquet").equals(
        records)
    assert record_input_columns(run) == [*RECORD_COLUMNS, "toxicity"]
    # inside a folder, a run covers its parts, in order
    assert input_files(tmp_path / "runs") == parts.files
    # a run folder's unfinished form (no data.parquet) is still refused
    (run / ".curate.json").write_text('{"written_by": "curate", "kind": "run"}')
    for f in parts.files:
        f.unlink()
    (run / "data.parquet").rmdir()
    with pytest.raises(InputError, match="a run folder without data.parquet"):
        input_files(tmp_path / "runs")


def test_a_records_file_written_before_turns_had_tool_fields(tmp_path):
    """Turns of {role, content} only (older runs, other tools) read as today's turns, the tool
    fields null; a turn field curate does not know is an error, not silently dropped."""
    turns = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))
    schema = {**RECORD_SCHEMA, "messages": turns, "prompt": turns, "chosen": turns,
              "rejected": turns}
    row = {c: None for c in schema} | {"id": "a", "kind": "sft", "messages": [
        {"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}
    pl.DataFrame([row], schema=schema).write_parquet(tmp_path / "old.parquet")
    df = read_records(tmp_path / "old.parquet")
    assert df.schema["messages"] == RECORD_SCHEMA["messages"]
    assert df["messages"].to_list() == [[
        {"role": "user", "content": "Q", "tool_calls": None, "tool_call_id": None},
        {"role": "assistant", "content": "A", "tool_calls": None, "tool_call_id": None}]]

    odd = pl.List(pl.Struct({"role": pl.String, "content": pl.String, "mood": pl.String}))
    row["messages"] = [{"role": "user", "content": "Q", "mood": "x"}]
    pl.DataFrame([row], schema={**schema, "messages": odd}).write_parquet(tmp_path / "odd.parquet")
    with pytest.raises(InputError, match="record columns do not match the record schema"):
        read_records(tmp_path / "odd.parquet")
