"""Named inputs and mix on Ray: the same records, parts and per-input counts as the local
engine (tokens counted by Ray tasks, each loading the tokenizer from its path)."""

from __future__ import annotations

import polars as pl

from curate.io.parts import Parts
from curate.recipe import parse_recipe
from curate.runner import run_recipe

from ..mix.test_tokens import word_tokenizer
from ..test_runner_inputs import check_funnel, write_jsonl


def test_named_inputs_and_mix_give_the_same_records_on_ray(ray_local, tmp_path, monkeypatch):
    from curate.io import parts

    monkeypatch.setattr(parts, "PART_ROWS", 7)  # several pieces per input
    ours = write_jsonl(tmp_path / "ours.jsonl", [
        {"instruction": f"Our question {i}?", "output": " ".join(["ours"] * (i % 9 + 1))}
        for i in range(30)])
    theirs = write_jsonl(tmp_path / "theirs.jsonl", [
        {"prompt": f"Their question {i}?", "response": f"their answer {i} " * (i % 4 + 1)}
        for i in range(25)])
    tok = str(word_tokenizer(tmp_path / "tokenizer.json"))
    spec = {"name": "m", "inputs": [{"name": "ours", "path": str(ours)},
                                    {"name": "theirs", "path": str(theirs)}],
            "stages": [{"use": "dedup.exact"},
                       {"use": "mix", "with": {"quotas": {"ours": 60, "theirs": 0.4},
                                               "unit": "tokens", "tokenizer": tok,
                                               "repeat": True}}]}
    runs = {}
    for engine in ("local", "ray"):
        runs[engine] = run_recipe(parse_recipe({**spec, "engine": engine}), tmp_path / engine,
                                  report=False)
        check_funnel(runs[engine])
    for a, b in zip(runs["local"]["stages"], runs["ray"]["stages"]):
        assert a["datasets"] == b["datasets"], a["name"]
    for sub in ("stages/02_mix.parquet", "rejected/02_mix.parquet", "data.parquet"):
        left, right = Parts(tmp_path / "local" / sub), Parts(tmp_path / "ray" / sub)
        assert [f.name for f in left.files] == [f.name for f in right.files]
        assert right.read().equals(left.read()), sub
    assert len(Parts(tmp_path / "ray" / "data.parquet").files) > 2
    data = pl.read_parquet(tmp_path / "ray" / "data.parquet")
    assert data["tokens"].null_count() == 0 and data["id"].n_unique() == data.height
