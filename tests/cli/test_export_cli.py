from __future__ import annotations

import json

import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from curate.cli import cli

ROWS = [{"instruction": f"Question {i}?", "output": f"Answer number {i}."} for i in range(8)]
ROWS.append({"conversations": [{"from": "human", "value": "Weather?"},
                               {"from": "gpt", "value": "Checking."},
                               {"from": "observation", "value": "sun"},
                               {"from": "gpt", "value": "Sunny."}]})
PAIRS = [{"prompt": f"Prompt {i}", "chosen": f"good {i}", "rejected": f"bad {i}"}
         for i in range(6)]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "sft.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS[:8]))
    (folder / "tool.jsonl").write_text(json.dumps(ROWS[8]) + "\n")
    (folder / "pairs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in PAIRS))
    return folder


def test_trl_sft_prompt_completion_jsonl_only(data, tmp_path):
    out = tmp_path / "o"
    r = invoke("export", data, "-o", out, "--target", "trl-sft", "--sft-format",
               "prompt-completion", "--formats", "jsonl", "--test-size", "2",
               "--validation-size", "1")
    assert r.exit_code == 0, r.output
    assert r.stdout == (f"wrote {out} (trl-sft): train: 6, validation: 1, test: 2\n"
                        "  not exported: wrong_kind: 6 (preference pairs: --target trl-dpo "
                        "(or --sft-from-pairs: prompt + chosen) exports them)\n")
    assert sorted(p.name for p in out.iterdir()) == [
        ".curate.json", "README.md", "rejected", "test.jsonl", "train.jsonl", "validation.jsonl"]
    row = json.loads((out / "train.jsonl").read_text().splitlines()[0])
    assert list(row) == ["id", "prompt", "completion"]
    assert pl.read_parquet(out / "rejected" / "export.parquet")["drop_reason"].to_list() == [
        "wrong_kind"] * 6


@pytest.mark.parametrize("args, files, skipped", [
    (["--target", "trl-kto"], {"train.parquet", "train.jsonl"}, "no_label: 9"),
    (["--target", "trl-reward"], {"train.parquet"},
     "wrong_kind: 9 (SFT records: --target trl-sft exports them)"),
    (["--target", "axolotl", "--chat-template", "zephyr"], {"axolotl.yaml"}, "template_error: 1"),
    (["--target", "llama-factory", "--style", "alpaca", "--task", "dpo"], {"dataset_info.json"},
     "wrong_kind: 9 (SFT records: --task sft exports them)"),
    (["--target", "openai"], {"train.jsonl"}, "tool_call_id_missing: 1"),  # a tool turn, no id
])
def test_targets(data, tmp_path, args, files, skipped):
    out = tmp_path / "o"
    r = invoke("export", data, "-o", out, "--test-size", "1", *args)
    assert r.exit_code == 0, r.output
    assert files <= {p.name for p in out.iterdir()}
    assert f"  not exported: {skipped}\n" in r.stdout


def test_axolotl_yaml_names_the_template(data, tmp_path):
    r = invoke("export", data, "-o", tmp_path / "o", "--target", "axolotl", "--chat-template",
               "llama-3", "--test-size", "1")
    assert r.exit_code == 0, r.output
    config = yaml.safe_load((tmp_path / "o" / "axolotl.yaml").read_text())
    assert config["chat_template"] == "llama3"


def test_option_errors(data, tmp_path):
    r = invoke("export", data, "-o", tmp_path / "o", "--target", "trl-dpo", "--sft-format",
               "messages")
    assert r.exit_code == 2
    assert r.stderr.endswith("Error: --sft-format: not an option of --target trl-dpo (its "
                             "options: none)\n")
    r = invoke("export", data, "-o", tmp_path / "o", "--target", "llama-factory",
               "--sft-from-pairs")
    assert r.exit_code == 2
    assert r.stderr.endswith("Error: --sft-from-pairs: not an option of --target llama-factory "
                             "(its options: --style, --task)\n")
    r = invoke("export", data, "-o", tmp_path / "o", "--target", "trl-sft", "--max-tokens", "5")
    assert r.exit_code == 2 and r.stderr.endswith(
        "Error: --max-tokens needs --tokenizer (a name in the local Hugging Face cache or a "
        "tokenizer folder) to count tokens with\n")
    assert not (tmp_path / "o").exists()
    r = invoke("export", data, "-o", tmp_path / "o", "--target", "trl-sft", "--max-tokens", "5",
               "--tokenizer", "nobody/nothing")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: tokenizer 'nobody/nothing' is not available offline")
    assert invoke("export", data, "-o", tmp_path / "o", "--target", "trl-sft", "--formats",
                  "csv").exit_code == 2
    assert invoke("export", data, "-o", tmp_path / "o", "--target", "nope").exit_code == 2


def test_max_tokens_with_tokenizer_folder(data, tmp_path):
    from curate.export.templates import local_tokenizer

    local_tokenizer("chatml").save_pretrained(tmp_path / "tok")
    # "<|im_start|>user" "Question" "0?" "<|im_end|>" "<|im_start|>assistant" "Answer" "number"
    # "0." "<|im_end|>": 9 tokens; the tool conversation is longer
    r = invoke("export", data, "-o", tmp_path / "o", "--target", "trl-sft", "--test-size", "1",
               "--max-tokens", "8", "--tokenizer", tmp_path / "tok")
    assert r.exit_code == 1
    assert r.stderr == ("Error: nothing to export to trl-sft: none of the 15 rows qualifies "
                        "(too_long: 9, wrong_kind: 6); the wrong_kind rows are preference "
                        "pairs: --target trl-dpo (or --sft-from-pairs: prompt + chosen) exports "
                        "them\n")
    r = invoke("export", data, "-o", tmp_path / "o2", "--target", "trl-sft", "--test-size", "1",
               "--max-tokens", "9", "--tokenizer", tmp_path / "tok")
    assert r.exit_code == 0, r.output
    assert "  not exported: too_long: 1\n" in r.stdout


def test_run_folder_input_gives_a_card_with_provenance(data, tmp_path):
    run = tmp_path / "run"
    assert invoke("dedup", data, "-o", run).exit_code == 0
    out = tmp_path / "o"
    r = invoke("export", run, "-o", out, "--target", "trl-dpo", "--test-size", "1")
    assert r.exit_code == 0, r.output
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "## Pipeline" in card and "## Inputs" in card and "## Recipe" in card


def test_export_to_a_url_writes_the_files_there(data, tmp_path, monkeypatch):
    """``-o memory://...``: the same files and rejected rows as a local folder."""
    import fsspec

    monkeypatch.setenv("CURATE_HOME", str(tmp_path / "home"))
    mem, url = fsspec.filesystem("memory"), "memory://export-cli-test/o"
    args = ("export", data, "--target", "trl-sft", "--test-size", "2")
    local = invoke(*args, "-o", tmp_path / "o")
    try:
        remote = invoke(*args, "-o", url)
        assert remote.exit_code == 0, remote.output
        assert remote.stdout == local.stdout.replace(str(tmp_path / "o"), url)
        names = sorted(p[len("/export-cli-test/o/"):] for p in mem.find(url))
        assert names == sorted(p.relative_to(tmp_path / "o").as_posix()
                               for p in (tmp_path / "o").rglob("*") if p.is_file())
        for name in ("train.jsonl", "test.jsonl", "rejected/export.parquet"):
            assert mem.cat_file(f"{url}/{name}") == (tmp_path / "o" / name).read_bytes()
    finally:
        mem.rm("memory://export-cli-test", recursive=True)


def test_run_folder_at_a_url_gives_a_card_with_provenance(data, tmp_path, monkeypatch):
    import fsspec

    monkeypatch.setenv("CURATE_HOME", str(tmp_path / "home"))
    mem, url = fsspec.filesystem("memory"), "memory://export-cli-run/run"
    try:
        assert invoke("dedup", data, "-o", url).exit_code == 0
        r = invoke("export", url, "-o", tmp_path / "o", "--target", "trl-dpo", "--test-size", "1")
        assert r.exit_code == 0, r.output
        card = (tmp_path / "o" / "README.md").read_text(encoding="utf-8")
        assert "## Pipeline" in card and "## Inputs" in card and "## Recipe" in card
        plain = invoke("export", f"{url}/data.parquet", "-o", tmp_path / "p", "--target",
                       "trl-dpo", "--test-size", "1")  # a file: no run, no provenance
        assert plain.exit_code == 0, plain.output
        assert "## Recipe" not in (tmp_path / "p" / "README.md").read_text(encoding="utf-8")
    finally:
        mem.rm("memory://export-cli-run", recursive=True)
