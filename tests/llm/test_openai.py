"""The openai backend against a real local HTTP server that injects faults."""

from __future__ import annotations

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
    assert not reply.ok and "gave up after 3 attempts: HTTP 500" in reply.error
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
