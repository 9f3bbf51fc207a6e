"""curate generate end to end: dry run, the key kept secret, kill and resume counted on the
server, a rerun that costs nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from curate.cli import cli

from ..llm.chat_server import ChatServer

KEY = "sk-curate-test-key-0123456789"
ROOT = Path(__file__).resolve().parents[2]


def _prompts(tmp_path, n):
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"Describe item {i} in one line."}) + "\n"
                            for i in range(n)))
    return path


def _all_text(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace")
                     for p in folder.rglob("*") if p.is_file())


def test_dry_run_counts_and_sends_nothing(tmp_path):
    server = ChatServer()
    try:
        path = _prompts(tmp_path, 4)
        args = ["generate", str(path), "-o", str(tmp_path / "out"), "--task", "responses", "--n", "2",
                "--format", "prompts", "--llm", "openai", "--model", "m", "--base-url",
                server.url, "--price-per-1k", "2"]
        res = CliRunner().invoke(cli, args + ["--dry-run"])
        assert res.exit_code == 0, res.output
        assert "4 of 4 rows to generate" in res.output and "8 requests to send" in res.output
        assert "at most 2048 completion tokens" in res.output and "Nothing was sent" in res.output
        assert server.requests == [] and not (tmp_path / "out" / "data.parquet").exists()
        assert CliRunner().invoke(cli, args).exit_code == 0
        res = CliRunner().invoke(cli, args + ["--dry-run"])
        assert "0 requests to send, 8 answered by the cache" in res.output
    finally:
        server.close()


def test_the_key_never_appears_in_output_logs_or_run_folder(tmp_path, monkeypatch):
    server = ChatServer()
    monkeypatch.setenv("CURATE_LLM_API_KEY", KEY)
    try:
        server.faults = ["500"] * 3
        res = CliRunner().invoke(cli, ["generate", str(_prompts(tmp_path, 2)), "-o", str(tmp_path / "out"),
                                       "--task", "responses", "--llm", "openai", "--model", "m",
                                       "--base-url", server.url, "--max-retries", "0"])
    finally:
        server.close()
    assert res.exit_code == 1, res.output  # every request failed: the error names the URL
    assert f"the first with: HTTP 500 from {server.url}" in res.stderr
    assert server.headers[0]["Authorization"] == f"Bearer {KEY}"
    assert KEY not in res.output and KEY[5:] not in _all_text(tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["stages"][1]["dropped"] == {"generation_failed": 2}
    assert KEY[5:] not in json.dumps(manifest)


def _generate(args, env):
    return subprocess.Popen([sys.executable, "-c", "from curate.cli import main; main()",
                             "generate", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_killed_run_resumes_without_repeating_a_request(tmp_path):
    """A slow server in its own process logs every request; the run is killed half-way and
    resumed: only the requests in flight when the run was killed (at most --concurrency: their
    answers may have left the server but never reached the cache) are sent again; every other
    request is sent once; a third run sends none."""
    log = tmp_path / "server.json"
    server = subprocess.Popen([sys.executable, str(ROOT / "tests/llm/chat_server.py"), "0.15",
                               str(log)], stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "CURATE_LLM_API_KEY": KEY}
        out = tmp_path / "out"
        args = [str(_prompts(tmp_path, 40)), "-o", str(out), "--task", "responses", "--llm",
                "openai", "--model", "m", "--base-url", url, "--concurrency", "2"]

        def served() -> list:
            time.sleep(0.2)
            return json.loads(log.read_text())["answered"] if log.exists() else []

        run = _generate(args, env)
        deadline = time.time() + 60
        while len(served()) < 10 and time.time() < deadline:
            time.sleep(0.1)
        run.send_signal(signal.SIGKILL)
        run.wait()
        before = len(served())
        assert 10 <= before < 40
        received_at_kill = len(json.loads(log.read_text())["received"])
        resumed = _generate([*args, "--resume"], env)
        output = resumed.communicate(timeout=120)[0]
        assert resumed.returncode == 0, output
        time.sleep(0.3)
        received = [b["messages"][-1]["content"] for b in json.loads(log.read_text())["received"]]
        assert len(set(received)) == 40
        assert len(received) - 40 <= 2  # at most the 2 in flight at the kill went again
        sent_on_resume = len(received) - received_at_kill
        assert f"{sent_on_resume} requests, {40 - sent_on_resume} from the cache" in output
        # the server may also have answered the requests in flight at the kill, after the
        # client was gone: count what it received, before and after the rerun
        received_before_rerun = len(json.loads(log.read_text())["received"])
        rerun = _generate([*args, "--resume"], env)
        output = rerun.communicate(timeout=120)[0]
        time.sleep(0.3)
        assert len(json.loads(log.read_text())["received"]) == received_before_rerun  # costs 0
        assert KEY not in output
        data = pl.read_parquet(out / "data.parquet")
        assert data.height == 40 and set(data["kind"]) == {"sft"}
    finally:
        server.kill()
        server.wait()


def test_candidates_for_a_file_of_prompts_and_answered_rows(tmp_path):
    # --n on a plain file: rows with a reply (alpaca) and rows with only an instruction both
    # get candidates; no --format needed
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps({"instruction": "Name a fruit.", "output": "Apple."}) + "\n"
                    + json.dumps({"instruction": "Name a colour."}) + "\n")
    server = ChatServer()
    try:
        out = tmp_path / "out"
        res = CliRunner().invoke(cli, ["generate", str(path), "-o", str(out), "--task",
                                       "responses", "--n", "2", "--llm", "openai", "--model",
                                       "m", "--base-url", server.url])
        assert res.exit_code == 0, res.output
        data = pl.read_parquet(out / "data.parquet").sort("id")
        assert data.height == 2 and set(data["kind"]) == {"sft"}
        assert [len(c) for c in data["candidates"]] == [2, 2]
        assert sorted(m[0]["content"] for m in data["messages"]) == ["Name a colour.",
                                                                      "Name a fruit."]
    finally:
        server.close()
