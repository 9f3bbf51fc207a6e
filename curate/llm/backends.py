"""The backends an LLM stage talks to (one for generation, one per judge), set up, closed and
counted the same way: each behind the run's request cache, the usage of every worker's copy
merged by backend name on the driver."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .client import Generator, Usage, make_backend


@dataclass(frozen=True)
class BackendSpec:
    """One backend: ``llm`` (local or openai), its model and server, and the name its usage
    and answers go by (``backend:model``)."""

    llm: str
    model: str | None
    base_url: str | None
    name: str


class BackendSettings(Protocol):
    """The options that say how every backend of a stage runs (a stage's options model)."""

    concurrency: int
    batch_size: int
    device: str
    timeout: float
    max_retries: int
    max_tokens_total: int | None
    retry_errors: bool
    llm_cache: str | None


def cache_path(settings: BackendSettings, cache_dir: Path | None) -> str | Path | None:
    """The request cache: the option's file, else the run's ``llm/requests.sqlite``."""
    if settings.llm_cache:
        return settings.llm_cache
    return cache_dir / "llm" / "requests.sqlite" if cache_dir is not None else None


def backend_of(spec: BackendSpec, settings: BackendSettings):
    return make_backend(spec.llm, spec.model, base_url=spec.base_url,
                        concurrency=settings.concurrency, batch_size=settings.batch_size,
                        device=settings.device, timeout=settings.timeout,
                        max_retries=settings.max_retries)


class Backends:
    """The generators of one copy of a stage, by backend name (opened on first use), and the
    usage that workers' copies reported (:meth:`absorb`)."""

    def __init__(self, specs: list[BackendSpec], settings: BackendSettings):
        self.specs, self.settings = specs, settings
        self._open: dict[str, Generator] | None = None
        self._reported: dict[str, Usage] = {}

    def generators(self, cache_dir: Path | None) -> list[Generator]:
        if self._open is None:
            s, cache = self.settings, cache_path(self.settings, cache_dir)
            self._open = {spec.name: Generator(backend_of(spec, s), cache,
                                               max_tokens_total=s.max_tokens_total,
                                               retry_errors=s.retry_errors)
                          for spec in self.specs}
        return list(self._open.values())

    def stand_in(self, generator: Generator) -> None:
        """Answer every backend's requests with ``generator`` (a dry run's placeholder)."""
        self._open = {spec.name: generator for spec in self.specs}

    def first_backend(self):
        """The first backend, opened or not (its name and model, its tokenizer)."""
        if self._open:
            return next(iter(self._open.values())).backend
        return backend_of(self.specs[0], self.settings)

    def close(self) -> None:
        for generator in {id(g): g for g in (self._open or {}).values()}.values():
            if hasattr(generator.backend, "close"):
                generator.backend.close()

    def report(self) -> dict[str, dict[str, Any]]:
        """This copy's usage by backend name (JSON-able)."""
        return {name: g.usage.as_dict() for name, g in (self._open or {}).items()}

    def absorb(self, before: dict[str, dict], after: dict[str, dict]) -> None:
        """Add what a worker's copy did between two of its reports."""
        for name, usage in after.items():
            total = self._reported.setdefault(name, Usage())
            total.add(usage)
            total.add(before.get(name, Usage().as_dict()), -1)

    def usage(self, name: str | None = None) -> Usage:
        """What the backend ``name`` (None: every backend) did, here and in workers."""
        out = Usage()
        for key, usage in self._reported.items():
            if name in (None, key):
                out.add(usage.as_dict())
        for key, generator in (self._open or {}).items():
            if name in (None, key):
                out.add(generator.usage.as_dict())
        return out
