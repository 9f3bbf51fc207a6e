"""The openai backend against a real local HTTP server that injects faults."""

from __future__ import annotations

import socket

from curate.llm.client import Generator
from curate.llm.openai import OpenAIBackend
from curate.llm.requests import Request, Sampling


def _requests(n):
    return [Request.chat([{"role": "user", "content": f"Say {i}"}], Sampling(max_tokens=8), "t")
            for i in range(n)]


def _complete(backend, requests):
    out = dict(backend.complete(requests, lambda: True))
    return [out[i] for i in range(len(requests))]


def test_retries_429_500_timeouts_and_dropped_connections(chat_server):
    chat_server.faults = ["429", "500", "timeout", "drop"]
    backend = OpenAIBackend("m", base_url=chat_server.url, concurrency=1, timeout=0.5, backoff=0.01)
    [reply] = _complete(backend, _requests(1))
    assert reply.ok and reply.text.startswith("Reply ") and reply.retries == 4
    assert reply.prompt_tokens == 2 and reply.completion_tokens > 0
    assert len(chat_server.requests) == 5


def test_gives_up_after_max_retries_with_the_last_error(chat_server):
    chat_server.faults = ["500"] * 10
    backend = OpenAIBackend("m", base_url=chat_server.url, max_retries=2, backoff=0.01)
    [reply] = _complete(backend, _requests(1))
    assert not reply.ok and reply.transient
    assert reply.error == (f'HTTP 500 from {chat_server.url}: {{"error": {{"message": "try '
                           'later"}} (gave up after 3 attempts)')
    assert len(chat_server.requests) == 3


def test_a_client_error_is_not_retried(chat_server):
    chat_server.refuse_schema = True
    backend = OpenAIBackend("m", base_url=chat_server.url)
    request = Request.chat([{"role": "user", "content": "Hi"}], Sampling(), "t",
                           schema={"type": "object"})
    [reply] = _complete(backend, [request])
    # the refused response_format is dropped and the request sent again, once
    assert reply.ok and len(chat_server.requests) == 2
    assert "response_format" in chat_server.requests[0]
    assert "response_format" not in chat_server.requests[1]


def test_key_is_sent_as_a_header_only(chat_server, monkeypatch):
    monkeypatch.setenv("CURATE_LLM_API_KEY", "sk-test-secret-123")
    backend = OpenAIBackend("m", base_url=chat_server.url)
    _complete(backend, _requests(2))
    assert all(h.get("Authorization") == "Bearer sk-test-secret-123"
               for h in chat_server.headers)
    assert "sk-test" not in repr(backend.describe()) and "sk-test" not in repr(
        backend.__getstate__())


def test_concurrency_bounds_requests_in_flight(chat_server):
    import threading

    chat_server.delay = 0.2
    seen, active, lock = [], [0], threading.Lock()
    original = OpenAIBackend.send

    def counting(self, request):
        with lock:
            active[0] += 1
            seen.append(active[0])
        try:
            return original(self, request)
        finally:
            with lock:
                active[0] -= 1

    backend = OpenAIBackend("m", base_url=chat_server.url, concurrency=3)
    backend.send = counting.__get__(backend)
    replies = _complete(backend, _requests(9))
    assert all(r.ok for r in replies) and max(seen) == 3


def test_budget_stops_sending(chat_server):
    backend = OpenAIBackend("m", base_url=chat_server.url, concurrency=1)
    sent = []
    out = dict(backend.complete(_requests(5), lambda: len(sent) < 2 and not sent.append(1)))
    assert [out[i].not_sent for i in range(5)] == [False, False, True, True, True]
    assert len(chat_server.requests) == 2


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_refused_connection_says_so_and_the_other_requests_fail_at_once():
    url = f"http://127.0.0.1:{closed_port()}/v1"
    backend = OpenAIBackend("m", base_url=url, concurrency=1, max_retries=2, backoff=0.001)
    replies = _complete(backend, _requests(3))
    error = f"server unreachable at {url}: connection refused (gave up after 3 attempts)"
    assert [(r.error, r.transient) for r in replies] == [(error, True)] * 3
    # the first request tried 3 times; the others were not sent to a server known to be down
    assert [r.retries for r in replies] == [2, 0, 0]


def test_a_request_without_an_answer_times_out(chat_server):
    chat_server.faults = ["hang"]
    backend = OpenAIBackend("m", base_url=chat_server.url, timeout=0.2, max_retries=0)
    [reply] = _complete(backend, _requests(1))
    assert reply.error == (f"no answer from {chat_server.url} within 0.2s (ReadTimeout) "
                           "(gave up after 1 attempt)") and reply.transient


def test_what_is_cached_errors_of_the_request_not_of_the_server(chat_server, tmp_path):
    """A 400 is the server's answer to that request: cached, counted when reused and sent
    again only with retry_errors; a 401, 500 or refused connection is not cached."""
    backend = OpenAIBackend("m", base_url=chat_server.url, concurrency=1, max_retries=0)
    chat_server.faults = ["400", "401", "500"]
    first = Generator(backend, tmp_path / "c.sqlite").generate(_requests(4))
    assert [r.error.split(" from ")[0] if r.error else None for r in first] == [
        "HTTP 400", "HTTP 401", "HTTP 500", None]
    assert [r.transient for r in first] == [False, True, True, False]

    again = Generator(backend, tmp_path / "c.sqlite")
    second = again.generate(_requests(4))
    assert len(chat_server.requests) == 4 + 2  # the 401 and the 500 were sent again
    assert [r.ok for r in second] == [False, True, True, True]
    assert (again.usage.cache_hits, again.usage.cached_failures) == (2, 1)

    retried = Generator(backend, tmp_path / "c.sqlite", retry_errors=True)
    assert all(r.ok for r in retried.generate(_requests(4)))
    assert len(chat_server.requests) == 6 + 1 and retried.usage.cached_failures == 0
