import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from curate.cli import cli

TOPICS = {
    "cooking": ["How do I boil an egg?", "How long should pasta cook?", "How do I bake bread?",
                "What temperature roasts a chicken?", "How do I make a soup stock?",
                "How do I caramelise onions?"],
    "python": ["How do I reverse a list in Python?", "What is a Python dictionary?",
               "How do I read a file in Python?"],
    "space": ["Why is Mars red?", "How far away is the Moon?"],
}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rows = [{"instruction": q, "input": "", "output": f"An answer about {topic}.",
             "topic": topic} for topic, qs in TOPICS.items() for q in qs]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_sample_writes_a_run_folder_with_coverage(data, tmp_path):
    out = tmp_path / "s"
    result = invoke("sample", data, "-o", out, "--n", "0.3", "--on", "prompt",
                    "--store-embedding", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "01_select.diverse             11 -> 3       dropped not_selected: 8" in result.output
    kept = pl.read_parquet(out / "data.parquet")
    assert sorted(kept["select_rank"].to_list()) == [0, 1, 2]
    assert kept.schema["embedding"] == pl.List(pl.Float32)
    rejected = pl.read_parquet(out / "rejected" / "01_select.diverse.parquet")
    assert rejected.height == 8 and set(rejected["drop_reason"]) == {"not_selected"}
    manifest = json.loads((out / "manifest.json").read_text())
    stage = manifest["stages"][1]
    assert stage["thresholds"]["n"] == 0.3 and stage["stats"]["budget"] == 3
    assert set(stage["stats"]["coverage"]) == {"sample", "random"}
    report = (out / "report.html").read_text()
    assert "covering radius" in report and report.count("<svg") == 2

    # the embedding column never reaches an export
    exp = invoke("export", out, "-o", tmp_path / "e", "--target", "trl-sft", "--test-size", "1")
    assert exp.exit_code == 0, exp.output
    for f in (tmp_path / "e").rglob("*.parquet"):
        assert "embedding" not in pl.read_parquet(f).columns
    for f in (tmp_path / "e").rglob("*.jsonl"):
        assert '"embedding"' not in f.read_text()


def test_same_seed_same_sample_other_methods(data, tmp_path):
    ids = []
    for name in ("a", "b"):
        res = invoke("sample", data, "-o", tmp_path / name, "-n", "4", "--method", "clusters",
                     "--n-clusters", "2", "--within-cluster", "random", "--seed", "3")
        assert res.exit_code == 0, res.output
        ids.append(pl.read_parquet(tmp_path / name / "data.parquet")["id"].to_list())
    assert ids[0] == ids[1] and len(ids[0]) == 4


def test_usage_and_option_errors(data, tmp_path):
    bad = invoke("sample", data, "-o", tmp_path / "x", "--n", "lots")
    assert bad.exit_code == 2 and "'lots' is not a count (1000) or a fraction (0.1)" in bad.output
    deita = invoke("sample", data, "-o", tmp_path / "y", "--n", "3", "--method", "deita")
    assert deita.exit_code == 2
    assert deita.stderr.endswith("Error: --score-column: needed by the deita method, which "
                                 "picks rows by a score (e.g. quality_response_chars)\n")
    assert not (tmp_path / "y").exists()


def test_compare_measures_every_method_at_the_same_budget(data, tmp_path):
    out = tmp_path / "c"
    result = invoke("sample", data, "-o", out, "--n", "4", "--on", "prompt", "--compare")
    assert result.exit_code == 0, result.output
    stats = json.loads((out / "manifest.json").read_text())["stages"][1]["stats"]
    assert stats["method"] == "facility"
    assert stats["facility_picks"] + stats["outlier_picks"] == 4
    methods = stats["coverage"]["methods"]
    assert set(methods) == {"kcenter", "clusters", "random"}  # deita: no score column
    assert all(m["picks"] == 4 and 0 <= m["mean_distance"] <= m["covering_radius"]
               for m in methods.values())
    report = (out / "report.html").read_text()
    assert "Every method at the same budget" in report
    assert "<td>facility (this sample)</td>" in report and "<td>kcenter</td>" in report
