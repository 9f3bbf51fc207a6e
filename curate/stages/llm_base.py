"""The base of the LLM stages (``generate.*``, ``judge.llm``): the backend options, the backends
held per worker (:mod:`curate.llm.backends`), the row bookkeeping (target rows, rejected
reasons, the provenance in ``meta``) and the manifest stats.

An LLM stage is a model scorer: ``score`` rewrites a batch's target rows in place (same row
count) and writes ``generation_reason``/``generation_error`` where it failed; rows of other
kinds pass through. Reasons: ``generation_failed`` (the backend's error; stops the run under
``on_error: raise``), ``unparseable``, ``empty_generation``, ``budget_exhausted``
(``max_tokens_total`` spent: a rerun continues from the cache). A stage whose requests all
failed stops the run (:meth:`GenerateStage.failure`).

A new task is one module: a subclass with ``id = "generate.<task>"``, ``task``,
``template_steps`` and :meth:`GenerateStage.generate_rows`, and its template file
(``<template_dir>/<task>.yaml``); ``curate generate --task <task>`` and its flags follow.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar, Literal

import polars as pl
from pydantic import Field, model_validator

from ..errors import StageError
from ..llm.backends import Backends, BackendSpec
from ..llm.client import Generator
from ..llm.models import PACKAGED
from ..llm.requests import Request, Response, Sampling
from ..llm.templates import TEMPLATE_DIR, Template, load_template
from ..records import parse_meta
from .base import ModelScorer, StageContext, StageOptions, StageResult, field_error

REASON, ERROR = "generation_reason", "generation_error"
REASONS = ("generation_failed", "unparseable", "empty_generation", "budget_exhausted")
STATS_KEYS = ("requests", "cache_hits", "retries", "failures", "cached_failures",
              "prompt_tokens", "completion_tokens")


class GenerateOptions(StageOptions):
    """Options every ``generate.*`` stage has (the backend, the cache, the budget)."""

    llm: Literal["local", "openai"] = "local"
    """Backend: ``local`` (a Hugging Face model in process; offline) or ``openai`` (any
    OpenAI-compatible server at ``base_url``; key from CURATE_LLM_API_KEY)."""

    model: str | None = None
    """local: ``smollm2-135m-instruct`` (the packaged model, the default) or a local HF
    causal-LM folder; openai: the model name the server knows."""

    base_url: str | None = None
    """openai: the server's API root, e.g. ``http://127.0.0.1:8000/v1``."""

    template: str | None = Field(None, json_schema_extra={"path": "file"})
    """A prompt template file (YAML, the keys of the packaged one) instead of the packaged
    template of the task."""

    temperature: float | None = Field(None, ge=0, le=2)
    """Sampling temperature (0: greedy); default 0, or 0.8 for several candidates."""

    max_tokens: int | None = Field(None, ge=1)
    """Most tokens per reply; default: the template's."""

    seed: int | None = None
    """Sampling seed; the run's seed when unset."""

    max_tokens_total: int | None = Field(None, ge=1)
    """Stop sending requests once this many prompt + completion tokens were spent in this run:
    rows not generated are rejected as ``budget_exhausted``; a rerun continues."""

    llm_cache: str | None = None
    """A request cache (SQLite file) shared between runs; default: the run folder's cache."""

    retry_errors: bool = False
    """Send again the requests whose cached answer is an error the server gave to the request
    (e.g. a 400); failures of the server or the connection are never cached."""

    concurrency: int = Field(8, ge=1)
    """openai: requests in flight at once (per worker)."""

    batch_size: int = Field(8, ge=1)
    """local: prompts per generate() call (similar lengths together, left padding)."""

    device: str = "auto"
    """local: torch device (``auto``: cuda where available)."""

    timeout: float = Field(120.0, gt=0)
    """openai: seconds per request attempt."""

    max_retries: int = Field(5, ge=0)
    """openai: retries of a request after a 429, a 5xx, a timeout or a dropped connection."""

    @model_validator(mode="after")
    def _backend(self) -> "GenerateOptions":
        if self.llm == "openai":
            check_openai(type(self), self.model, self.base_url)
        return self


def check_openai(model_cls: type, model: str | None, base_url: str | None) -> None:
    """The openai backend needs the model's name and the server's URL (a ValidationError at
    the field that is missing)."""
    if not model:
        raise field_error(model_cls, "model", "needed by the openai backend: the name the "
                          "server knows the model by")
    if not base_url:
        raise field_error(model_cls, "base_url", "needed by the openai backend: the server's "
                          "API root, e.g. http://127.0.0.1:8000/v1")


class GenerateStage(ModelScorer):
    """Base of the LLM stages; a subclass sets ``task``, ``targets`` and ``template_steps`` and
    writes :meth:`generate_rows`.

    Its ``curate generate --task`` value is ``cli_name`` (``task`` unless set); its flags are
    its options' fields (``cli_hidden``: fields without a flag); :meth:`input_format` is the
    input format the command reads by default."""

    task: ClassVar[str] = ""
    targets: ClassVar[tuple[str, ...]] = ()      # record kinds the stage generates for
    # the template's steps: step -> the fields its user text may use (see curate.llm.templates)
    template_steps: ClassVar[dict[str, set[str]]] = {}
    template_dir: ClassVar[Path] = TEMPLATE_DIR   # where <task>.yaml is
    # the columns rejected rows carry, the reasons, and the one that stops on_error: raise
    reason_column: ClassVar[str] = REASON
    error_column: ClassVar[str] = ERROR
    reasons: ClassVar[tuple[str, ...]] = REASONS
    failed_reason: ClassVar[str] = "generation_failed"
    done_word: ClassVar[str] = "generated"        # what happened to a row that succeeded
    counted: ClassVar[tuple[str, ...]] = ("rows_generated", "rows_passed")  # summed over workers
    batch_size = 64                               # rows per score() call (per Ray block)
    report_section = "generate"
    command = "generate"
    cli_prefix = ""  # `curate generate --model ...`: the flags are the field names
    cli_hidden: ClassVar[tuple[str, ...]] = ()

    options: GenerateOptions

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if cls.__dict__.get("task") and "cli_name" not in cls.__dict__:
            cls.cli_name = cls.task
        super().__init_subclass__(**kwargs)

    def __init__(self, options=None):
        super().__init__(options)
        self._template: Template | None = None
        self.backends = Backends(self.backend_specs(), self.options)
        self.rows_generated = 0
        self.rows_passed = 0  # rows of other kinds, left as they were

    @classmethod
    def input_format(cls, options: dict[str, Any]) -> str:
        """The input format ``curate generate`` reads for this task unless --format is
        given (``options``: the flags given, by field)."""
        return "auto"

    # -- what the stage uses ---------------------------------------------------------------
    def backend_specs(self) -> list[BackendSpec]:
        """The backends the stage talks to: by default the one of llm/model/base_url."""
        o = self.options
        return [BackendSpec(o.llm, o.model, o.base_url, f"{o.llm}:{o.model or PACKAGED}")]

    def template(self) -> Template:
        if self._template is None:
            self._template = load_template(self.task, self.template_steps,
                                           self.options.template, directory=self.template_dir)
        return self._template

    def backend(self):
        """The (first) backend: its name, model and tokenizer."""
        return self.backends.first_backend()

    def generators(self, ctx: StageContext) -> list[Generator]:
        return self.backends.generators(ctx.cache_dir)

    def generator(self, ctx: StageContext) -> Generator:
        return self.generators(ctx)[0]

    def resolved(self) -> dict[str, Any]:
        return {"template_version": self.template().version}

    def sampling(self, step: str, ctx: StageContext, *, offset: int = 0,
                 temperature: float | None = None) -> Sampling:
        o = self.options
        t = o.temperature if o.temperature is not None else (temperature or 0.0)
        seed = (o.seed if o.seed is not None else ctx.seed) + offset
        return Sampling(max_tokens=o.max_tokens or self.template()[step].max_tokens,
                        temperature=t, seed=seed)

    def request(self, messages: list[dict], step: str, ctx: StageContext, **kw) -> Request:
        schema = kw.pop("schema", None)
        return Request.chat(messages, self.sampling(step, ctx, **kw), self.template().version,
                            schema)

    def provenance(self, **extra: Any) -> dict[str, Any]:
        backend = self.backend()
        return {"task": self.task, "model": backend.model, "backend": backend.name,
                "template_version": self.template().version, **extra}

    # -- scoring ---------------------------------------------------------------------------
    def generate(self, requests: list[Request], ctx: StageContext, desc: str
                 ) -> list[Response]:
        return self.generator(ctx).generate(requests, desc=desc)

    def generate_rows(self, rows: list[dict], ctx: StageContext
                      ) -> list[dict | tuple[str, str]]:
        """For each target row (a dict of its columns, ``meta`` decoded): the columns to set,
        or ``(reason, error text)``."""
        raise NotImplementedError

    def score(self, batch: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        written = [c for c in self.columns_written() if c not in batch.columns]
        batch = batch.with_columns(
            [pl.lit(None, pl.String).alias(self.reason_column),
             pl.lit(None, pl.String).alias(self.error_column)]
            + [pl.lit(None, self.column_types()[c]).alias(c) for c in written])
        if batch.height == 0:
            return batch
        is_target = batch["kind"].is_in(list(self.targets_of()))
        rows = batch.filter(is_target).to_dicts()
        self.rows_passed += batch.height - len(rows)
        if not rows:
            return batch
        for row in rows:
            row["meta"] = parse_meta(row.get("meta"))
        results = self.generate_rows(rows, ctx)
        for row, result in zip(rows, results):
            if isinstance(result, tuple):
                row[self.reason_column], row[self.error_column] = result
                if result[0] == self.failed_reason and ctx.on_error == "raise":
                    raise StageError(f"{self.id}: {result[0].replace('_', ' ')} for row "
                                     f"{row['id']}: "
                                     f"{result[1]} (on_error: skip keeps such rows in "
                                     "rejected/ with the error)")
            else:
                self.rows_generated += 1
                row.update(result)
            row["meta"] = json.dumps(row["meta"], ensure_ascii=False, default=str)
        done = pl.DataFrame(rows, schema=batch.schema)
        positions = pl.Series(range(batch.height)).filter(is_target)
        return batch.with_row_index("__i").update(
            done.with_columns(positions.cast(pl.UInt32).alias("__i")), on="__i",
            include_nulls=True).drop("__i")

    def targets_of(self) -> tuple[str, ...]:
        return self.targets

    def column_types(self) -> dict[str, pl.DataType]:
        return {}

    def checks(self, columns: list[str]) -> list[tuple[str, pl.Expr]]:
        return [(r, pl.col(self.reason_column) == r) for r in self.reasons]

    def post(self, kept: pl.DataFrame, rejected: pl.DataFrame, ctx: StageContext
             ) -> tuple[pl.DataFrame, pl.DataFrame, int]:
        return (kept.drop(self.reason_column, self.error_column),
                rejected.drop(self.reason_column), 0)

    def close(self) -> None:
        self.backends.close()

    def failure(self, result: StageResult) -> str | None:
        """Every row to generate failed as ``failed_reason`` (none succeeded): the message."""
        failed = result.dropped().get(self.failed_reason, 0)
        if not failed or self.rows_generated:
            return None
        return (f"{self.id}: no row was {self.done_word}: {failed} failed as "
                f"{self.failed_reason}, the first with: {result.stats.get('first_error')}"
                + retry_hint(result.stats.get("cached_failures", 0)))

    def first_error(self, scored: pl.DataFrame) -> str | None:
        """The error of the first row that failed as ``failed_reason``, for the messages."""
        if self.reason_column not in scored.columns:
            return None
        failed = scored.filter(pl.col(self.reason_column) == self.failed_reason)
        return failed[self.error_column][0] if failed.height else None

    # -- reports from workers and the manifest -----------------------------------------------
    def worker_report(self) -> dict[str, Any]:
        counts = {k: dict(v) if isinstance(v, Counter) else v
                  for k, v in ((k, getattr(self, k)) for k in self.counted)}
        return {"usage": self.backends.report(), "counts": counts}

    def absorb_reports(self, reports: list[dict[str, Any]]) -> None:
        for r in reports:
            before, after = r["before"], r["after"]
            self.backends.absorb(before["usage"], after["usage"])
            for k in self.counted:
                mine = getattr(self, k)
                if isinstance(mine, Counter):
                    mine.update(after["counts"][k])
                    mine.subtract(before["counts"][k])
                else:
                    setattr(self, k, mine + after["counts"][k] - before["counts"][k])

    def usage_stats(self, name: str | None = None) -> dict[str, Any]:
        """The request and token counts of the backend ``name`` (None: all), for the stats."""
        usage = self.backends.usage(name)
        return {**{k: getattr(usage, k) for k in STATS_KEYS}, "not_sent": usage.not_sent}

    def stats(self, scored: pl.DataFrame, kept: pl.DataFrame,
              ctx: StageContext) -> dict[str, Any]:
        """The generation contract's counts (``failures``: requests that failed, replacing
        the per-check counts of other filters; the runner's ``dropped`` has the reasons)."""
        backend = self.backend()
        return {**self.usage_stats(),
                "model": backend.model, "backend": backend.name,
                "template_version": self.template().version, "llm": backend.describe(),
                "rows_generated": self.rows_generated,
                "passed_through": self.rows_passed, "first_error": self.first_error(scored)}


def retry_hint(cached_failures: int) -> str:
    """Where failed answers came from the request cache: how to send them again."""
    if not cached_failures:
        return ""
    return (f"; {cached_failures} failed answers came from the request cache (errors of an "
            "earlier run): --retry-errors (retry_errors: true in a recipe) sends them again")
