"""A backend behind the request cache and the token budget, counting what it costs.

:class:`Generator` answers a list of requests: those in the cache come from it (``cache_hits``,
no request), the others go to the backend (``requests``) and are stored as they arrive, except
failures of the server or the connection (``Response.transient``: a rerun sends them again;
cached errors, ``cached_failures``, are sent again only with ``retry_errors``). Once
the prompt and completion tokens of the requests sent reach ``max_tokens_total``, no further
request is sent: those come back ``not_sent`` (the stage rejects their rows as
``budget_exhausted``; a rerun answers the rest, the answered ones from the cache).
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import CurateError
from ..progress import bar
from .cache import RequestCache
from .models import PACKAGED
from .requests import Request, Response


@dataclass
class Usage:
    """What a generator did (the stage's manifest stats)."""

    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    cached_failures: int = 0  # errors answered from the cache (see retry_errors)
    not_sent: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def add(self, other: dict[str, Any], sign: int = 1) -> None:
        for k, v in other.items():
            setattr(self, k, getattr(self, k) + sign * v)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["seconds"] = round(self.seconds, 3)
        return out


def make_backend(llm: str, model: str | None, *, base_url: str | None = None,
                 concurrency: int = 8, batch_size: int = 8, device: str = "auto",
                 timeout: float = 120.0, max_retries: int = 5):
    if llm == "local":
        from .local import LocalBackend  # startup: loads transformers when it runs

        return LocalBackend(model or PACKAGED, batch_size=batch_size, device=device)
    if llm == "openai":
        from .openai import OpenAIBackend  # startup: httpx

        if not model:
            raise CurateError("--llm openai needs --model, the name the server knows the "
                              "model by")
        return OpenAIBackend(model, base_url=base_url or "", concurrency=concurrency,
                             timeout=timeout, max_retries=max_retries)
    raise CurateError(f"--llm {llm!r}: expected local or openai")


class Generator:
    """``backend`` behind ``cache`` (a path or None) with an optional token budget."""

    def __init__(self, backend, cache: str | Path | None = None, *,
                 max_tokens_total: int | None = None, retry_errors: bool = False,
                 store: bool = True):
        self.backend = backend
        self.cache = RequestCache(cache) if cache is not None else None
        self.max_tokens_total, self.retry_errors = max_tokens_total, retry_errors
        self.store = store  # False: answers are not written to the cache (a dry run)
        self.usage = Usage()
        self._lock = threading.Lock()

    def spent(self) -> int:
        return self.usage.prompt_tokens + self.usage.completion_tokens

    def may_send(self) -> bool:
        return self.max_tokens_total is None or self.spent() < self.max_tokens_total

    def key(self, request: Request) -> str:
        return request.key(self.backend.name, self.backend.model_id)

    def cached(self, request: Request) -> Response | None:
        """The cached answer of ``request`` (None: it would be sent)."""
        if self.cache is None:
            return None
        hit = self.cache.get(self.key(request))
        if hit is not None and hit.error is not None and self.retry_errors:
            return None
        return hit

    def generate(self, requests: list[Request], *, desc: str = "generate") -> list[Response]:
        """One response per request, in order."""
        out: list[Response | None] = [None] * len(requests)
        todo: dict[Request, list[int]] = {}
        for i, request in enumerate(requests):
            hit = self.cached(request)
            if hit is not None:
                out[i] = hit
                self.usage.cache_hits += 1
                self.usage.cached_failures += hit.error is not None
            else:  # identical requests in one call are sent once
                todo.setdefault(request, []).append(i)
        unique = list(todo)
        started = time.perf_counter()
        with bar(total=len(unique), desc=desc, unit="req") as progress:
            for k, response in self.backend.complete(unique, self.may_send):
                self._record(unique[k], response)
                for i in todo[unique[k]]:
                    out[i] = response
                progress.update(1)
                tokens = self.usage.completion_tokens
                elapsed = time.perf_counter() - started
                progress.set_postfix_str(f"{tokens / max(elapsed, 1e-9):.1f} tok/s, "
                                         f"{self.spent()} tokens", refresh=False)
        self.usage.seconds += time.perf_counter() - started
        return out  # type: ignore[return-value]

    def _record(self, request: Request, response: Response) -> None:
        with self._lock:
            if response.not_sent:
                self.usage.not_sent += 1
                return
            self.usage.requests += 1
            self.usage.retries += response.retries
            self.usage.failures += response.error is not None
            self.usage.prompt_tokens += response.prompt_tokens
            self.usage.completion_tokens += response.completion_tokens
        if self.cache is not None and self.store and not response.transient:
            self.cache.put(self.key(request), response)
