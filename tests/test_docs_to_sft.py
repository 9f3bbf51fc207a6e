"""pipelines/docs-to-sft.yaml on the packaged model: prose documents become SFT records with
their provenance, the report shows the generation, the card names the model."""

import json
from pathlib import Path

import polars as pl

from curate.recipe import load_recipe
from curate.runner import run_recipe

from .llm.packaged import need_packaged_model

REPO = Path(__file__).resolve().parents[1]


def test_docs_to_sft_recipe(tmp_path, monkeypatch):
    need_packaged_model()
    monkeypatch.chdir(REPO)
    out = tmp_path / "docs"
    manifest = run_recipe(load_recipe("pipelines/docs-to-sft.yaml"), out,
                          recipe_file=REPO / "pipelines" / "docs-to-sft.yaml")
    convert, generate = manifest["stages"][:2]
    assert convert["rows_out"] == 5 and convert["dropped"] == {}
    stats = generate["stats"]
    assert stats["requests"] >= 5 and stats["model"] == "smollm2-135m-instruct"
    assert stats["backend"] == "local" and stats["template_version"] == "questions-v1"
    data = pl.read_parquet(out / "data.parquet")
    assert data.height >= 3 and set(data["kind"]) == {"sft"}
    for row in data.iter_rows(named=True):
        meta = json.loads(row["meta"])
        text = (REPO / "pipelines/data/docs" / meta["file"]).read_text()
        assert text[meta["start"]:meta["end"]] == meta["passage"]
        assert row["messages"][0]["content"].endswith("?")
    report = (out / "report.html").read_text()
    assert "questions and answers" in report and "questions-v1" in report
    card = (out / "export" / "trl-sft" / "README.md").read_text()
    assert "model `smollm2-135m-instruct`, backend local, template questions-v1" in card
    # a rerun into the same folder sends nothing: every answer comes from the request cache
    again = run_recipe(load_recipe("pipelines/docs-to-sft.yaml"), out,
                       recipe_file=REPO / "pipelines" / "docs-to-sft.yaml")
    assert again["stages"][1]["stats"]["requests"] == 0
    assert again["stages"][1]["stats"]["cache_hits"] == stats["requests"]
