"""The ``openai`` backend: any OpenAI-compatible chat-completions server (vLLM, llama.cpp's
server, Ollama, TGI, ``transformers serve``, OpenAI itself) over httpx.

The key comes from ``CURATE_LLM_API_KEY`` only; it is sent as a bearer header and appears in
no message, log, cache or manifest. Requests run ``concurrency`` at a time, each on a daemon
thread (Ctrl-C stops the command at once; a request in flight is abandoned); a 429, a 5xx, a
timeout or a dropped connection is retried up to ``max_retries`` times with exponential backoff
and full jitter (a ``Retry-After`` header is honoured); other errors fail that request only.
Errors say what happened where (``server unreachable at URL: connection refused (gave up after
6 attempts)``); those of the server or the connection are ``transient`` (not cached). Once a
request gave up on a server that refuses connections before any request was answered, the rest
fail at once with the same error instead of each retrying.
A request with a JSON schema asks for ``response_format: json_schema``; a server that refuses
the field (400 naming it) is asked again without it, and callers parse and validate the text
in any case (several servers ignore the field).
"""

from __future__ import annotations

import os
import queue
import random
import re
import threading
import time
from typing import Callable, Iterator

from ..errors import CurateError
from ..interrupts import quiet_thread
from .requests import Request, Response

KEY_ENV = "CURATE_LLM_API_KEY"
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
SERVER_STATUS = frozenset({401, 403, 404})  # the server's setup (key, URL), not the request


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
        self._reached = False           # the server answered a request (any status)
        self._unreachable: str | None = None  # why the server is taken as down (see above)
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
        answers: queue.Queue = queue.Queue()

        def work(i: int) -> None:
            quiet_thread()
            try:
                answers.put((i, self.send(requests[i])))
            except BaseException as exc:  # send() never raises: a bug, given to the caller
                answers.put((i, exc))

        pending = iter(range(len(requests)))
        running, stopped = 0, False
        while True:
            while not stopped and running < self.concurrency:
                i = next(pending, None)
                if i is None:
                    break
                if not may_send():
                    stopped = True
                    yield i, Response(not_sent=True)
                    break
                threading.Thread(target=work, args=(i,), name="curate-llm", daemon=True).start()
                running += 1
            if stopped:
                for i in pending:
                    yield i, Response(not_sent=True)
            if not running:
                return
            i, response = _next(answers)
            running -= 1
            if isinstance(response, BaseException):
                raise response
            yield i, response

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
            if self._unreachable is not None:
                return Response(error=self._unreachable, retries=retries, transient=True)
            wait_s, refused = None, False
            try:
                use_schema = not self._schema_refused
                reply = self.client().post("/chat/completions",
                                           json=self.body(request, use_schema))
                self._reached = True
                if (reply.status_code == 400 and use_schema and request.schema is not None
                        and "response_format" in reply.text):
                    self._schema_refused = True
                    continue
                if reply.status_code in RETRY_STATUS:
                    last = f"HTTP {reply.status_code} from {self.base_url}: {reply.text[:200]}"
                    wait_s = _retry_after(reply.headers.get("retry-after"))
                elif reply.status_code >= 400:
                    return Response(error=f"HTTP {reply.status_code} from {self.base_url}: "
                                          f"{reply.text[:300]}", retries=retries,
                                    transient=reply.status_code in SERVER_STATUS)
                else:
                    return _parse(reply, retries)
            except httpx.ConnectError as exc:
                last, refused = f"server unreachable at {self.base_url}: {_reason(exc)}", True
            except httpx.TimeoutException as exc:
                last = (f"no answer from {self.base_url} within {self.timeout:g}s "
                        f"({type(exc).__name__})")
            except httpx.TransportError as exc:
                last = f"connection to {self.base_url} failed: {_reason(exc)}"
            if retries >= self.max_retries:
                attempts = retries + 1
                error = f"{last} (gave up after {attempts} attempt{'s' * (attempts > 1)})"
                if refused and not self._reached:
                    self._unreachable = error
                return Response(error=error, retries=retries, transient=True)
            delay = min(self.max_backoff, self.backoff * 2 ** retries)
            time.sleep(wait_s if wait_s is not None else random.uniform(0, delay))
            retries += 1


def _next(answers: queue.Queue):
    """The next answer; waits in steps, so that a signal that went to another thread than
    this one (the main thread, where Python raises it) is seen within a second."""
    while True:
        try:
            return answers.get(timeout=1.0)
        except queue.Empty:
            continue


def _reason(exc: Exception) -> str:
    """``connection refused`` for ``[Errno 111] Connection refused``; else the error's text."""
    text = str(exc).strip()
    found = re.search(r"\[Errno -?\d+\] (.+)", text)
    if found:
        return found.group(1).strip().lower()
    return text or type(exc).__name__


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
