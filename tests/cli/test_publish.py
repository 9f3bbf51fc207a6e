"""`curate publish` against a local STAND-IN for the Hub's HTTP API (the Hub cannot run here),
reached through HF_ENDPOINT; the token must never show in output, logs, files or errors."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner

from curate.cli import cli
from tests.export.hub_standin import HubStandIn

TOKEN = "hf_NEVERshowTHIS0123456789abcdef"
FILES = ["README.md", "test.jsonl", "test.parquet", "train.jsonl", "train.parquet"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def folder(tmp_path):
    rows = [{"instruction": f"Question {i}?", "output": f"Answer {i}."} for i in range(8)]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "sft"
    assert invoke("export", src, "-o", out, "--target", "trl-sft", "--test-size", "2"
                  ).exit_code == 0
    return out


@pytest.fixture
def env(monkeypatch, tmp_path, caplog):
    import huggingface_hub.constants as constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-login" / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-login" / "st"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # the stand-in is on 127.0.0.1
    caplog.set_level(logging.DEBUG)
    return monkeypatch


def _nowhere(result, caplog, *folders):
    assert TOKEN not in result.output
    assert TOKEN not in caplog.text
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                assert TOKEN.encode() not in path.read_bytes(), path


def test_dry_run_offline(folder, tmp_path, env, caplog):
    import huggingface_hub.constants as constants

    env.setattr(constants, "HF_HUB_OFFLINE", True)  # any request would fail
    env.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    result = invoke("publish", folder, "--repo-id", "me/sft", "--dry-run")
    assert result.exit_code == 0, result.output
    sizes = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
    assert result.stdout == (
        "would upload 5 files to me/sft (private, revision main):\n"
        + "".join(f"  {name}  {sizes[name]} bytes\n" for name in FILES))


def test_publish_with_token_from_environment(folder, env, caplog):
    env.setenv("HF_TOKEN", TOKEN)
    with HubStandIn(token=TOKEN, user="bob") as hub:
        env.setenv("HF_ENDPOINT", hub.url)
        result = invoke("publish", folder, "--repo-id", "sft", "--revision", "v2",
                        "-m", "SFT split v2")
    assert result.exit_code == 0, result.output
    commit = hub.repos["bob/sft"].commits[0]
    assert result.stdout.splitlines()[0] == (
        "uploaded 5 files to bob/sft (private, revision v2):")
    assert result.stdout.splitlines()[-1] == (
        f"commit {commit['oid']}: {hub.url}/datasets/bob/sft/commit/{commit['oid']}")
    assert hub.repos["bob/sft"].private is True
    assert (commit["summary"], commit["revision"], sorted(commit["files"])) == (
        "SFT split v2", "v2", FILES)
    assert commit["keys"] == ["header"] + ["file"] * 5
    _nowhere(result, caplog, folder)


def test_public_flag_and_token_flag(folder, env, caplog):
    with HubStandIn(token=TOKEN) as hub:
        env.setenv("HF_ENDPOINT", hub.url)
        result = invoke("publish", folder, "--repo-id", "org/sft", "--public", "--token", TOKEN)
    assert result.exit_code == 0, result.output
    assert "(public, revision main)" in result.stdout
    assert hub.repos["org/sft"].private is False
    _nowhere(result, caplog, folder)


def test_refused_token_is_one_line_without_the_token(folder, env, caplog):
    env.setenv("HF_TOKEN", TOKEN)
    with HubStandIn(token="hf_another") as hub:
        env.setenv("HF_ENDPOINT", hub.url)
        result = invoke("publish", folder, "--repo-id", "sft")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "Error: looking up the token's user (whoami) failed: HTTP 401: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    _nowhere(result, caplog, folder)


def test_no_token(folder, env, caplog):
    env.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    result = invoke("publish", folder, "--repo-id", "me/sft")
    assert result.exit_code == 1
    assert result.stderr == ("Error: no Hugging Face token: set HF_TOKEN, pass --token, or log "
                             "in with `hf auth login`\n")
