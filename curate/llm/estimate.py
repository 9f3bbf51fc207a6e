"""``--dry-run``: what a generation stage would send, without sending anything.

The stage's own ``generate_rows`` runs against a backend that answers every request with a
placeholder (a reply that parses, so that follow-up requests, such as the answers of
``generate.questions``, are counted too) and counts tokens with the real backend's tokenizer
(an estimate of 4 characters a token for a server). Requests whose answer is in the request
cache are counted as cache hits; nothing is written to the cache. Completion tokens are the
upper bound (each request's ``max_tokens``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import polars as pl

from ..records import parse_meta
from .client import Generator
from .requests import Request, Response


class PlaceholderBackend:
    """Answers with placeholders; counts prompt tokens with ``real``'s tokenizer."""

    def __init__(self, real):
        self.real, self.name, self.model, self.model_id = real, real.name, real.model, real.model_id
        self.seen: list[Request] = []

    def count_tokens(self, text: str) -> int:
        return self.real.count_tokens(text)

    def complete(self, requests: list[Request], may_send: Callable[[], bool]
                 ) -> Iterator[tuple[int, Response]]:
        for i, request in enumerate(requests):
            self.seen.append(request)
            text = "\n".join(f"What does placeholder question {k} ask about the text?"
                             for k in range(1, 11))
            prompt = self.real.count_tokens(self.real.render(request))
            yield i, Response(text=text, prompt_tokens=prompt,
                              completion_tokens=request.sampling.max_tokens)


@dataclass
class Estimate:
    rows: int
    requests: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    examples: list[list[dict[str, str]]] = field(default_factory=list)
    cached_failures: int = 0  # cache hits that are errors (sent again only with retry_errors)

    def cost(self, price_per_1k: float | None) -> float | None:
        if price_per_1k is None:
            return None
        return (self.prompt_tokens + self.completion_tokens) / 1000 * price_per_1k

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("rows", "requests", "cache_hits",
                                              "prompt_tokens", "completion_tokens")}


def estimate(stage, df, ctx, cache_path) -> Estimate:
    """What ``stage`` would send for ``df`` (records frame) with ``cache_path``'s answers."""
    placeholder = PlaceholderBackend(stage.backend())
    generator = Generator(placeholder, cache_path, retry_errors=stage.options.retry_errors,
                          store=False)
    stage.backends.stand_in(generator)
    rows = df.filter(pl.col("kind").is_in(list(stage.targets_of()))).to_dicts()
    for row in rows:
        row["meta"] = parse_meta(row.get("meta"))
    if rows:
        stage.generate_rows(rows, ctx)
    u = generator.usage
    return Estimate(len(rows), u.requests, u.cache_hits, u.prompt_tokens, u.completion_tokens,
                    [r.message_dicts() for r in placeholder.seen[:3]], u.cached_failures)
