"""The ``openai`` backend: any OpenAI-compatible chat-completions server (vLLM, llama.cpp's
server, Ollama, TGI, ``transformers serve``, OpenAI itself) over httpx.

The key comes from ``CURATE_LLM_API_KEY`` only; it is sent as a bearer header and appears in
no message, log, cache or manifest. Requests run ``concurrency`` at a time; a 429, a 5xx, a
timeout or a dropped connection is retried up to ``max_retries`` times with exponential backoff
and full jitter (a ``Retry-After`` header is honoured); other errors fail that request only.
A request with a JSON schema asks for ``response_format: json_schema``; a server that refuses
the field (400 naming it) is asked again without it, and callers parse and validate the text
in any case (several servers ignore the field).
"""

from __future__ import annotations

import os
import random
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Iterator

from ..errors import CurateError
from .requests import Request, Response

KEY_ENV = "CURATE_LLM_API_KEY"
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class OpenAIBackend:
    name = "openai"
    supports_schema = True

    def __init__(self, model: str, *, base_url: str, concurrency: int = 8,
                 timeout: float = 120.0, max_retries: int = 5, backoff: float = 0.5,
                 max_backoff: float = 30.0):
        if not base_url:
            raise CurateError("--llm openai needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        self.model, self.base_url = model, base_url.rstrip("/")
        self.model_id = f"{self.base_url}|{model}"
        self.concurrency, self.timeout = concurrency, timeout
        self.max_retries, self.backoff, self.max_backoff = max_retries, backoff, max_backoff
        self._schema_refused = False
        self._client = None
        self._lock = threading.Lock()

    def describe(self) -> dict:
        return {"backend": self.name, "model": self.model, "base_url": self.base_url,
                "concurrency": self.concurrency}

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)  # no tokenizer of the server's model here: an estimate

    def render(self, request: Request) -> str:
        return "\n".join(f"{r}: {c}" for r, c in request.messages)

    def client(self):
        with self._lock:
            if self._client is None:
                import httpx

                headers = {"Content-Type": "application/json"}
                key = os.environ.get(KEY_ENV)
                if key:
                    headers["Authorization"] = f"Bearer {key}"
                limits = httpx.Limits(max_connections=self.concurrency,
                                      max_keepalive_connections=self.concurrency)
                self._client = httpx.Client(base_url=self.base_url, headers=headers,
                                            timeout=self.timeout, limits=limits)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __getstate__(self):  # a stage copied to a worker opens its own client
        return {k: v for k, v in self.__dict__.items() if k not in ("_client", "_lock")}

    def __setstate__(self, state):
        self.__dict__.update(state, _client=None, _lock=threading.Lock())

    # -- requests ---------------------------------------------------------------------------
    def complete(self, requests: list[Request], may_send: Callable[[], bool]
                 ) -> Iterator[tuple[int, Response]]:
        """``(index, response)`` as answers arrive, ``concurrency`` in flight; once
        ``may_send()`` says no, the requests not yet started come back ``not_sent``."""
        pending = iter(range(len(requests)))
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="curate-llm") as pool:
            running: dict[Future, int] = {}
            stopped = False
            while True:
                while not stopped and len(running) < self.concurrency:
                    i = next(pending, None)
                    if i is None:
                        break
                    if not may_send():
                        stopped = True
                        yield i, Response(not_sent=True)
                        break
                    running[pool.submit(self.send, requests[i])] = i
                if stopped:
                    for i in pending:
                        yield i, Response(not_sent=True)
                if not running:
                    return
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    yield running.pop(future), future.result()

    def body(self, request: Request, schema: bool) -> dict:
        s = request.sampling
        body = {"model": self.model, "messages": request.message_dicts(),
                "max_tokens": s.max_tokens, "temperature": s.temperature, "top_p": s.top_p,
                "seed": s.seed, "stream": False}
        if schema and request.schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "answer", "schema": request.schema, "strict": True}}
        return body

    def send(self, request: Request) -> Response:
        """One request with its retries; never raises."""
        import httpx

        retries, last = 0, "no attempt"
        while True:
            wait_s = None
            try:
                use_schema = not self._schema_refused
                reply = self.client().post("/chat/completions",
                                           json=self.body(request, use_schema))
                if (reply.status_code == 400 and use_schema and request.schema is not None
                        and "response_format" in reply.text):
                    self._schema_refused = True
                    continue
                if reply.status_code in RETRY_STATUS:
                    last = f"HTTP {reply.status_code}: {reply.text[:200]}"
                    wait_s = _retry_after(reply.headers.get("retry-after"))
                elif reply.status_code >= 400:
                    return Response(error=f"HTTP {reply.status_code}: {reply.text[:300]}",
                                    retries=retries)
                else:
                    return _parse(reply, retries)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if retries >= self.max_retries:
                return Response(error=f"gave up after {retries + 1} attempts: {last}",
                                retries=retries)
            delay = min(self.max_backoff, self.backoff * 2 ** retries)
            time.sleep(wait_s if wait_s is not None else random.uniform(0, delay))
            retries += 1


def _retry_after(value: str | None) -> float | None:
    try:
        return min(60.0, max(0.0, float(value))) if value else None
    except ValueError:
        return None


def _parse(reply, retries: int) -> Response:
    try:
        data = reply.json()
        choice = data["choices"][0]
        text = choice["message"].get("content") or ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return Response(error=f"not a chat completion: {reply.text[:300]}", retries=retries)
    usage = data.get("usage") or {}
    return Response(text=text.strip(), prompt_tokens=int(usage.get("prompt_tokens") or 0),
                    completion_tokens=int(usage.get("completion_tokens") or 0),
                    finish_reason=choice.get("finish_reason"), retries=retries)
