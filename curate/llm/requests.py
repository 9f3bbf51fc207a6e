"""One chat request to an LLM, its answer, and the key that identifies it in the request cache."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Bump when the way a request's key is made changes (old cache entries then stop matching).
KEY_VERSION = 1


@dataclass(frozen=True, order=True)
class Sampling:
    """How a completion is sampled; temperature 0 is greedy."""

    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0


@dataclass(frozen=True)
class Request:
    """A chat completion to make: ``messages`` ({"role", "content"} dicts), its sampling and
    the template version that wrote it (part of the cache key); ``schema`` asks for JSON output
    where the backend supports it."""

    messages: tuple[tuple[str, str], ...]
    sampling: Sampling = Sampling()
    template_version: str = ""
    schema: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    @classmethod
    def chat(cls, messages: list[dict[str, str]], sampling: Sampling, template_version: str,
             schema: dict[str, Any] | None = None) -> Request:
        return cls(tuple((m["role"], m["content"]) for m in messages), sampling,
                   template_version, schema)

    def message_dicts(self) -> list[dict[str, str]]:
        return [{"role": r, "content": c} for r, c in self.messages]

    def key(self, backend: str, model: str) -> str:
        """sha256 of (backend, model, messages, sampling, template version, schema)."""
        blob = json.dumps([KEY_VERSION, backend, model, self.messages, asdict(self.sampling),
                           self.template_version, self.schema], sort_keys=True,
                          ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class Response:
    """What came back: the text, or the error that stopped it. ``cached``: from the request
    cache (no request sent); ``retries``: extra attempts the backend made."""

    text: str = ""
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    retries: int = 0
    cached: bool = False
    not_sent: bool = False  # the token budget was spent before this request's turn
    # a failure of the server or the connection (refused, timeout, 5xx, 429, auth), not an
    # answer to the request: never cached, so a rerun sends the request again
    transient: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.not_sent

    def to_json(self) -> str:
        return json.dumps({"text": self.text, "error": self.error,
                           "prompt_tokens": self.prompt_tokens,
                           "completion_tokens": self.completion_tokens,
                           "finish_reason": self.finish_reason}, ensure_ascii=False)

    @classmethod
    def from_json(cls, blob: str) -> Response:
        data = json.loads(blob)
        return cls(text=data.get("text") or "", error=data.get("error"),
                   prompt_tokens=int(data.get("prompt_tokens") or 0),
                   completion_tokens=int(data.get("completion_tokens") or 0),
                   finish_reason=data.get("finish_reason"), cached=True)
