import json

import polars as pl
import pytest

from curate.decontam.benchmarks import load_benchmark, load_benchmarks
from curate.errors import StageError

ROWS = [{"question": "What is the capital of France?", "answer": "Paris", "id": 1},
        {"question": "Name three primary colours.", "answer": "Red, yellow and blue.", "id": 2}]


def write(tmp_path, fmt: str):
    path = tmp_path / f"bench.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    elif fmt == "json":
        path.write_text(json.dumps(ROWS))
    elif fmt == "parquet":
        pl.DataFrame(ROWS).write_parquet(path)
    elif fmt == "csv":
        pl.DataFrame(ROWS).write_csv(path)
    else:
        import datasets

        path = tmp_path / "hf"
        datasets.Dataset.from_list(ROWS).save_to_disk(str(path))
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "json", "parquet", "csv", "hf"])
def test_every_format_read_and_fields_detected(tmp_path, fmt):
    bench = load_benchmark("qa", str(write(tmp_path, fmt)))
    assert bench.fields == ["question", "answer"]
    assert bench.rows == 2 and len(bench.sha256) == 64
    assert bench.texts == ["What is the capital of France?", "Paris",
                           "Name three primary colours.", "Red, yellow and blue."]
    assert bench.prompts == ["What is the capital of France?", "Name three primary colours."]


def test_named_fields_override_detection(tmp_path):
    bench = load_benchmark("qa", str(write(tmp_path, "jsonl")), ["answer"])
    assert bench.fields == ["answer"] and bench.texts == bench.prompts == [
        "Paris", "Red, yellow and blue."]


def test_errors_name_the_benchmark_file_line_and_fields(tmp_path):
    path = write(tmp_path, "jsonl")
    with pytest.raises(StageError, match=r"benchmark qa .*no field prompt; its fields: "
                                         r"answer, id, question"):
        load_benchmark("qa", str(path), ["prompt"])
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"text": "x", "label": 1}) + "\n")
    with pytest.raises(StageError, match=r"no text field found .* its fields: label, text; "
                                         r"name them with fields \(--decontam-field\)"):
        load_benchmark("other", str(other))
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(ROWS[0]) + "\n{not json\n")
    with pytest.raises(StageError, match=r"benchmark b: .*broken.jsonl:2: "):
        load_benchmark("b", str(broken))
    with pytest.raises(StageError, match="benchmark file not found: .*nowhere.json"):
        load_benchmark("n", str(tmp_path / "nowhere.json"))
    with pytest.raises(StageError, match="no benchmark given"):
        load_benchmarks({})


@pytest.mark.parametrize("gz", [False, True])
def test_json_array_read_as_the_row_readers_read_it(tmp_path, gz):
    import gzip

    def put(name: str, rows) -> str:
        data = json.dumps(rows).encode()
        path = tmp_path / (name + (".json.gz" if gz else ".json"))
        path.write_bytes(gzip.compress(data) if gz else data)
        return str(path)

    # numbers, booleans and nulls beside strings are not texts (polars would make "7" of 7)
    mixed = [{"question": "Two plus five?", "answer": 7}, {"question": True, "answer": "Seven."},
             {"question": "  ", "answer": None}, {"question": "Say 42.", "answer": "42"}]
    bench = load_benchmark("m", put("mixed", mixed))
    assert bench.rows == 4 and bench.fields == ["question", "answer"]
    assert bench.texts == ["Two plus five?", "Seven.", "Say 42.", "42"]
    assert bench.prompts == ["Two plus five?", "Say 42."]
    late = [{"id": k} for k in range(150)] + [{"id": 150, "answer": "Only the last row has it."}]
    assert load_benchmark("late", put("late", late)).texts == ["Only the last row has it."]
    with pytest.raises(StageError, match=r"benchmark b: .*bad\.json(\.gz)?:2: expected a JSON "
                                         r"object, got int"):
        load_benchmark("b", put("bad", [ROWS[0], 3]))
