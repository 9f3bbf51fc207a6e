from __future__ import annotations

import pytest
import yaml

from curate.errors import CurateError
from curate.export import export
from curate.export.card import redact, render_card, size_category

RUN_INFO = {
    "name": "demo-sft",
    "license": "apache-2.0",
    "inputs": [{"path": "pipelines/data/demo.jsonl", "sha256": "ab" * 32}],
    "stages": [
        {"name": "convert", "rows_in": 120, "rows_out": 118, "dropped": {"invalid_record": 2}},
        {"name": "dedup.exact", "rows_in": 118, "rows_out": 100,
         "dropped": {"duplicate": 15, "empty|turn": 3}},
        {"name": "safety.toxicity", "rows_in": 100, "rows_out": 100, "dropped": {}},
    ],
    "versions": {"curate": "0.1.0", "polars": "2.1.0"},
    "recipe": {"name": "demo", "seed": 0,
               "stages": [{"use": "label.push", "with": {"api_key": "argilla.apikey-123",
                                                         "hf_token": "hf_abcdef", "n": 3}}]},
    "seed": 0,
}


def _front(card: str) -> dict:
    assert card.startswith("---\n")
    head, _, _ = card[4:].partition("\n---\n")
    return yaml.safe_load(head)


@pytest.mark.parametrize("n, label", [
    (0, "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"), (9_999, "1K<n<10K"),
    (10_000, "10K<n<100K"), (250_000, "100K<n<1M"), (1_000_000, "1M<n<10M"),
    (10**12, "n>1T"),
])
def test_size_categories(n, label):
    assert size_category(n) == label


def test_sft_front_matter():
    card = render_card(target="trl-sft", counts={"train": 900, "test": 100}, run_info=RUN_INFO)
    assert _front(card) == {
        "pretty_name": "demo-sft",
        "license": "apache-2.0",
        "language": ["en"],
        "task_categories": ["text-generation"],
        "size_categories": ["1K<n<10K"],
        "tags": ["curate", "trl", "sft"],
        "configs": [{"config_name": "default", "data_files": [
            {"split": "train", "path": "train.parquet"},
            {"split": "test", "path": "test.parquet"}]}],
    }


def test_dpo_front_matter_defaults():
    card = render_card(target="trl-dpo", counts={"test": 5, "validation": 5, "train": 90},
                       run_info=None)
    assert _front(card) == {
        "license": "other",
        "language": ["en"],
        "task_categories": ["text-generation"],
        "size_categories": ["n<1K"],
        "tags": ["curate", "trl", "dpo", "preference"],
        "configs": [{"config_name": "default", "data_files": [
            {"split": "train", "path": "train.parquet"},
            {"split": "validation", "path": "validation.parquet"},
            {"split": "test", "path": "test.parquet"}]}],
    }
    assert "# curate trl-dpo export\n" in card
    assert "## Pipeline" not in card and "## Inputs" not in card


def test_body_has_splits_stages_inputs_versions():
    card = render_card(target="trl-sft", counts={"train": 90, "test": 10}, run_info=RUN_INFO)
    assert "# demo-sft\n" in card
    assert 'ds = load_dataset("path/to/this/folder")' in card
    assert "| split | rows |\n|---|---|\n| train | 90 |\n| test | 10 |\n| total | 100 |" in card
    assert "| convert | 120 | 118 | invalid_record: 2 |" in card
    assert "| dedup.exact | 118 | 100 | duplicate: 15, empty\\|turn: 3 |" in card
    assert "| safety.toxicity | 100 | 100 | - |" in card
    assert f"| `pipelines/data/demo.jsonl` | `{'ab' * 32}` |" in card
    assert "| curate | 0.1.0 |\n| polars | 2.1.0 |" in card
    assert "| seed | 0 |" in card


def test_no_secrets(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_from_the_environment")
    card = render_card(target="trl-sft", counts={"train": 9, "test": 1}, run_info=RUN_INFO)
    assert "hf_from_the_environment" not in card
    assert "argilla.apikey-123" not in card and "hf_abcdef" not in card
    recipe = yaml.safe_load(card.split("```yaml\n")[1].split("```")[0])
    assert recipe["stages"][0]["with"] == {"api_key": "<redacted>", "hf_token": "<redacted>",
                                           "n": 3}


def test_redact_nested():
    value = {"a": [{"password": "x", "b": 1}], "secret": None, "max_tokens": 5,
             "HF-Token": "t", "openaiApiKey": "k", "access_key": "k", "keys": 2,
             "url": "hf_" + "A1" * 15, "model": "sk-model"}
    assert redact(value) == {
        "a": [{"password": "<redacted>", "b": 1}], "secret": None, "max_tokens": 5,
        "HF-Token": "<redacted>", "openaiApiKey": "<redacted>", "access_key": "<redacted>",
        "keys": 2, "url": "<redacted>", "model": "sk-model"}


def test_unknown_target():
    with pytest.raises(CurateError, match="unknown export target 'kto'"):
        render_card(target="kto", counts={"train": 1}, run_info={})


def test_export_writes_the_card_with_its_accounting(b, tmp_path):
    df = b.frame([b.sft(f"q{i}", "a") for i in range(20)] + [b.pref("p", "c", "r")])
    res = export(df, tmp_path / "o", target="trl-sft", test_size=0.1, seed=4,
                 run_info={"name": "x", "repo_id": "me/x"})
    card = (tmp_path / "o" / "README.md").read_text(encoding="utf-8")
    assert _front(card)["configs"][0]["data_files"] == [
        {"split": "train", "path": "train.parquet"}, {"split": "test", "path": "test.parquet"}]
    assert res.counts == {"train": 18, "test": 2}
    assert "| export (trl-sft) | 21 | 20 | wrong_kind: 1 |" in card
    assert "| seed | 4 |\n| test_size | 0.1 |\n| stratify | source |" in card
    assert 'ds = load_dataset("me/x")' in card


MANIFEST_INFO = {
    "name": "labelled",
    "agreement": {"krippendorff_alpha": 0.71, "annotators": 3},
    "stages": [
        {"name": "safety.toxicity", "rows_in": 10, "rows_out": 9, "dropped": {"toxic": 1},
         "thresholds": {"max": 0.5, "labels": None},
         "stats": {"scorer": "detoxify", "model": "original", "detoxify": "0.5.4",
                   "histogram": [1, 2, 3], "mean": 0.12}},
        {"name": "label.pull", "rows_in": 9, "rows_out": 9, "dropped": {},
         "stats": {"agreement": {"verdict": {"level": "nominal", "units": 40, "alpha": 0.64}},
                   "counts": {"records": 9}}},
    ],
}


def test_thresholds_models_and_agreement():
    card = render_card(target="trl-kto", counts={"train": 8, "test": 1},
                       run_info=MANIFEST_INFO)
    assert ("| stage | setting | value |\n|---|---|---|\n| safety.toxicity | max | 0.5 |\n"
            "| safety.toxicity | labels | - |") in card
    assert ("## Models and stage statistics\n\n| stage | name | value |\n|---|---|---|\n"
            "| safety.toxicity | scorer | detoxify |\n| safety.toxicity | model | original |\n"
            "| safety.toxicity | detoxify | 0.5.4 |\n| safety.toxicity | mean | 0.12 |\n\n") in card
    assert ("## Label agreement\n\n| where | measure | value |\n|---|---|---|\n"
            "| run | krippendorff_alpha | 0.71 |\n| run | annotators | 3 |\n"
            "| label.pull | agreement.verdict.level | nominal |\n"
            "| label.pull | agreement.verdict.units | 40 |\n"
            "| label.pull | agreement.verdict.alpha | 0.64 |\n") in card
    assert _front(card)["tags"] == ["curate", "trl", "kto", "preference"]
    assert "- `label`: true for a desirable completion" in card
    assert "# trl.KTOTrainer(" in card


@pytest.mark.parametrize("target, options, tags, path", [
    ("trl-reward", {}, ["curate", "trl", "reward-modeling", "preference"], "train.parquet"),
    ("axolotl", {"task": "dpo"}, ["curate", "axolotl", "dpo", "preference"], "train.parquet"),
    ("llama-factory", {}, ["curate", "llama-factory", "sft"], "train.parquet"),
    ("openai", {}, ["curate", "openai", "sft"], "train.jsonl"),
])
def test_tags_and_data_files_per_target(target, options, tags, path):
    info = {"export": {"options": options}} if options else {}
    card = render_card(target=target, counts={"train": 3}, run_info=info)
    front = _front(card)
    assert front["tags"] == tags
    assert front["configs"][0]["data_files"] == [{"split": "train", "path": path}]


def test_export_checks_section(b, tmp_path):
    df = b.frame([b.sft(f"q{i}", "a") for i in range(5)])
    export(df, tmp_path / "o", target="trl-sft", test_size=1, chat_template="zephyr",
           formats=["jsonl"])
    card = (tmp_path / "o" / "README.md").read_text(encoding="utf-8")
    assert ("## Export checks\n\n| setting | value |\n|---|---|\n| chat_template | zephyr |\n"
            "| formats | jsonl |") in card
    assert _front(card)["configs"][0]["data_files"][0] == {"split": "train",
                                                            "path": "train.jsonl"}


def test_card_summarises_the_groups_the_bias_audit_flagged():
    audit = {"records_in": 300, "removed_rate": 0.1, "disparity_max": 1.5, "flagged": {
        "religion/muslims": {"flags": ["over_removed"], "records_in": 30, "records_out": 3,
                             "removed_rate": 0.9, "removal_ratio": 9.0, "toxic_rate_in": 0.0,
                             "removed_by": {"toxic": 25, "toxic_about_group": 2}}}}
    stages = [{"name": "safety.bias", "use": "safety.bias", "rows_in": 300, "rows_out": 270,
               "stats": {"groups": {"religion/muslims": 30}, "run": audit}}]
    card = render_card(target="trl-sft", counts={"train": 9}, run_info={"stages": stages})
    assert ("## Bias audit\n\nIdentity-group mentions over the whole run (`bias.json`): 300 "
            "records in, removed rate 0.1.") in card
    assert ("| religion/muslims | over_removed | 30 | 3 | 9.0 | 0.0 | toxic: 25, "
            "toxic_about_group: 2 |") in card
    audit["flagged"] = {}
    card = render_card(target="trl-sft", counts={"train": 9}, run_info={"stages": stages})
    assert "No group was flagged." in card and "| religion/muslims |" not in card
