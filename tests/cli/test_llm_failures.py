"""curate generate and judge against a server that refuses, times out, returns 500 or 429, or
answers 400: the first error is printed, a command whose every row failed exits 1, failures
of the server or the connection are not cached (a rerun once the server is back ends with the
records of a run that never saw the fault), and --retry-errors is named where cached errors
were reused."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from curate.cli import cli

from ..llm.chat_server import ChatServer


def _prompts(tmp_path: Path, n: int = 2) -> Path:
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"Describe item {i} in one line."}) + "\n"
                            for i in range(n)))
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def generate(tmp_path: Path, out: str, url: str, *extra: str):
    return CliRunner().invoke(cli, [
        "generate", str(_prompts(tmp_path)), "-o", str(tmp_path / out), "--task", "responses",
        "--llm", "openai", "--model", "m", "--base-url", url, "--concurrency", "1",
        "--max-retries", "0", *extra])


def _manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


def _records(run: Path) -> pl.DataFrame:
    return pl.read_parquet(run / "data.parquet").sort("id")


@pytest.fixture
def server():
    s = ChatServer(port=_free_port())
    yield s
    s.close()


@pytest.fixture
def fresh(tmp_path, server) -> Path:
    """The records of a run that saw no fault."""
    res = generate(tmp_path, "fresh", server.url)
    assert res.exit_code == 0, res.output
    server.requests.clear()
    return tmp_path / "fresh"


def test_a_server_that_refuses_connections(tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v1"
    res = generate(tmp_path, "out", url)
    assert res.exit_code == 1
    error = f"server unreachable at {url}: connection refused (gave up after 1 attempt)"
    assert res.stderr.splitlines()[-1] == (
        "Error: generate.responses: no row was generated: 2 failed as generation_failed, the "
        f"first with: {error}")
    out = tmp_path / "out"
    manifest = _manifest(out)
    assert (manifest["status"], manifest["step"]) == ("failed", "01_generate.responses")
    entry = manifest["stages"][1]
    assert (entry["status"], entry["dropped"]) == ("failed", {"generation_failed": 2})
    assert entry["stats"]["first_error"] == error and entry["stats"]["failures"] == 2
    rejected = pl.read_parquet(out / entry["rejected"])
    assert rejected["generation_error"].to_list() == [error] * 2
    assert not (out / "data.parquet").exists()

    server = ChatServer(port=port)  # the server is started: the same command now works
    try:
        again = generate(tmp_path, "out", url)
        assert again.exit_code == 0, again.output
        assert "2 requests, 0 from the cache, 0 retries, 0 failed" in again.output
        assert _manifest(out)["status"] == "done"
        fresh = generate(tmp_path, "fresh", url)
        assert fresh.exit_code == 0
        assert _records(out).equals(_records(tmp_path / "fresh"))
    finally:
        server.close()


FAULTS = {
    "500": 'HTTP 500 from {url}: {{"error": {{"message": "try later"}}}} (gave up after 1 attempt)',
    "429": 'HTTP 429 from {url}: {{"error": {{"message": "try later"}}}} (gave up after 1 attempt)',
    "hang": "no answer from {url} within 0.3s (ReadTimeout) (gave up after 1 attempt)",
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_every_request_failing_exits_1_and_a_rerun_sends_them_again(tmp_path, server, fresh,
                                                                    fault):
    server.faults = [fault] * 2
    res = generate(tmp_path, "out", server.url, "--timeout", "0.3")
    assert res.exit_code == 1
    assert res.stderr.splitlines()[-1] == (
        "Error: generate.responses: no row was generated: 2 failed as generation_failed, the "
        "first with: " + FAULTS[fault].format(url=server.url))
    assert _manifest(tmp_path / "out")["status"] == "failed"

    again = generate(tmp_path, "out", server.url, "--resume")  # the fault is gone
    assert again.exit_code == 0, again.output
    assert "2 requests, 0 from the cache" in again.output
    assert _records(tmp_path / "out").equals(_records(fresh))


def test_some_rows_failing_prints_the_first_error_and_resume_sends_them_again(tmp_path,
                                                                             server, fresh):
    server.faults = ["500"]  # the first request only (one at a time)
    res = generate(tmp_path, "out", server.url)
    assert res.exit_code == 0, res.output
    assert ("1 rows failed, the first with: HTTP 500 from " + server.url) in res.output
    assert _manifest(tmp_path / "out")["stages"][1]["dropped"] == {"generation_failed": 1}
    assert _records(tmp_path / "out").height == 1

    again = generate(tmp_path, "out", server.url, "--resume")
    assert again.exit_code == 0, again.output
    assert "1 requests, 1 from the cache, 0 retries, 0 failed" in again.output
    assert _records(tmp_path / "out").equals(_records(fresh))


def test_cached_errors_name_retry_errors(tmp_path, server, fresh):
    server.faults = ["400"] * 2  # the server's answer to the request: cached
    first = generate(tmp_path, "out", server.url)
    assert first.exit_code == 1 and "--retry-errors" not in first.output
    again = generate(tmp_path, "out", server.url)
    assert again.exit_code == 1 and len(server.requests) == 2  # nothing sent again
    error = f'HTTP 400 from {server.url}: {{"error": {{"message": "bad request"}}}}'
    assert again.stderr.splitlines()[-1] == (
        "Error: generate.responses: no row was generated: 2 failed as generation_failed, the "
        f"first with: {error}; 2 failed answers came from the request cache (errors of an "
        "earlier run): --retry-errors (retry_errors: true in a recipe) sends them again")
    dry = generate(tmp_path, "out", server.url, "--dry-run")
    assert ("0 requests to send, 2 answered by the cache (2 of them errors, sent again only "
            "with --retry-errors)") in dry.output
    assert "2 requests to send, 0 answered by the cache;" in generate(
        tmp_path, "out", server.url, "--dry-run", "--retry-errors").output
    retried = generate(tmp_path, "out", server.url, "--retry-errors")
    assert retried.exit_code == 0, retried.output
    assert _records(tmp_path / "out").equals(_records(fresh))


def test_judge_against_a_server_that_refuses_connections(tmp_path):
    path = tmp_path / "cands.jsonl"
    path.write_text(json.dumps({
        "messages": [{"role": "user", "content": "Explain tides."},
                     {"role": "assistant", "content": "The moon."}],
        "candidates": ["The moon.", "The moon's gravity pulls the oceans."]}) + "\n")
    url = f"http://127.0.0.1:{_free_port()}/v1"
    res = CliRunner().invoke(cli, ["judge", str(path), "-o", str(tmp_path / "out"), "--judge",
                                   f"openai:m@{url}", "--max-retries", "0", "--no-pairs"])
    assert res.exit_code == 1
    assert res.stderr.splitlines()[-1] == (
        "Error: judge.llm: no row was judged: 1 failed as judge_failed, the first with: server "
        f"unreachable at {url}: connection refused (gave up after 1 attempt)")
    assert _manifest(tmp_path / "out")["status"] == "failed"
