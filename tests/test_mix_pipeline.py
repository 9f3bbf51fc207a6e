"""pipelines/mix.yaml: named inputs of the demo corpus, dedup across them, a mixture in tokens
of the packaged tokenizer; quotas met within one record, the card's sources equal a recount."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from curate.recipe import load_recipe
from curate.runner import run_recipe

from .llm.packaged import need_packaged_model
from .test_runner_inputs import check_funnel
from .test_shared_inputs import card_sources, recount

REPO = Path(__file__).resolve().parents[1]


def test_mix_recipe(tmp_path, monkeypatch):
    need_packaged_model()
    monkeypatch.chdir(REPO)
    out = tmp_path / "mix"
    manifest = run_recipe(load_recipe("pipelines/mix.yaml"), out,
                          recipe_file=REPO / "pipelines" / "mix.yaml")
    check_funnel(manifest)
    convert, dedup, mix = manifest["stages"]
    # the demo corpus's planted problems, each in its input (pipelines/data/README.md)
    assert convert["datasets"] == {
        "faq": {"rows_in": 17, "rows_out": 15, "dropped": {"not_a_question": 2}},
        "alpaca": {"rows_in": 119, "rows_out": 114, "dropped": {
            "empty_turn": 1, "invalid_json": 2, "missing_field": 1, "wrong_type": 1}},
        "chats": {"rows_in": 50, "rows_out": 49, "dropped": {"empty_turn": 1}}}
    data = pl.read_parquet(out / "data.parquet")
    info = mix["stats"]["inputs"]
    assert info["alpaca"]["target"] == 0.5 * info["alpaca"]["available"]
    for name in ("alpaca", "chats"):
        tokens = data.filter(pl.col("dataset") == name)["tokens"]
        assert tokens.sum() >= info[name]["target"] > tokens.sum() - tokens.max(), name
    assert mix["datasets"]["faq"]["rows_out"] == mix["datasets"]["faq"]["rows_in"]
    table = card_sources((out / "export" / "trl-sft" / "README.md").read_text("utf-8"))
    for name, records, tokens in recount(out).rows():
        assert table[name][0] == "apache-2.0"
        assert (int(table[name][2]), int(table[name][3])) == (records, tokens), name
