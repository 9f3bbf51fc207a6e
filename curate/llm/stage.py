"""What the ``generate.*`` stages share: the backend options, the generator (backend + request
cache + budget) held per worker, the row bookkeeping (target rows, rejected reasons, the
generation's provenance in ``meta``) and the manifest stats.

Generation is a model-scorer shape (:class:`curate.stages.base.ModelScorer`): ``score`` turns
a batch's target rows into their generated records in place (same row count, same columns:
``kind``, ``messages``, ``prompt`` ... rewritten), and writes ``generation_reason`` /
``generation_error`` where it failed; the engines run it in process or on a Ray actor pool
(one model per actor, one GPU each where Ray has GPUs; HTTP requests ``concurrency`` at a time
per actor). Rows of other kinds pass through unchanged.

Reasons: ``generation_failed`` (the backend's error: HTTP status, timeout after retries, model
error), ``unparseable`` (a reply with nothing usable, e.g. no question), ``empty_generation``
(an empty reply), ``budget_exhausted`` (``max_tokens_total`` was spent before the row's turn:
rerun to continue; answered requests come from the cache). Under the run's ``on_error: raise``
a generation_failed stops the run with the error; the other reasons are rows in rejected/ in
any case (a small model's unusable answer is data, not an error). A stage that had rows to
generate and generated none because requests failed stops the run too (:meth:`failure`), with
the first error; its rows are still written to rejected/.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

import polars as pl
from pydantic import Field, model_validator

from ..errors import StageError
from ..stages.base import ModelScorer, StageContext, StageOptions, StageResult, field_error
from .client import Generator, Usage, make_backend
from .requests import Request, Response, Sampling
from .templates import Template, load_template

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
    """Base of the ``generate.*`` stages; subclasses set ``task``, ``targets`` and write
    :meth:`generate_rows`."""

    task: ClassVar[str] = ""
    targets: ClassVar[tuple[str, ...]] = ()      # record kinds the stage generates for
    # the columns rejected rows carry, the reasons, and the one that stops on_error: raise
    reason_column: ClassVar[str] = REASON
    error_column: ClassVar[str] = ERROR
    reasons: ClassVar[tuple[str, ...]] = REASONS
    failed_reason: ClassVar[str] = "generation_failed"
    done_word: ClassVar[str] = "generated"        # what happened to a row that succeeded
    batch_size = 64                               # rows per score() call (per Ray block)
    report_section = "generate"
    command, cli_name = "generate", "generate"
    cli_prefix = ""  # `curate generate --model ...`: the flags are the field names

    options: GenerateOptions

    def __init__(self, options=None):
        super().__init__(options)
        self._generator: Generator | None = None
        self._template: Template | None = None
        self.usage = Usage()
        self.rows_generated = 0
        self.rows_passed = 0  # rows of other kinds, left as they were

    # -- what the stage uses ---------------------------------------------------------------
    def template(self) -> Template:
        if self._template is None:
            self._template = load_template(self.task, self.options.template)
        return self._template

    def backend(self):
        o = self.options
        return make_backend(o.llm, o.model, base_url=o.base_url, concurrency=o.concurrency,
                            batch_size=o.batch_size, device=o.device, timeout=o.timeout,
                            max_retries=o.max_retries)

    def generator(self, ctx: StageContext) -> Generator:
        if self._generator is None:
            o = self.options
            cache = o.llm_cache or (ctx.cache_dir / "llm" / "requests.sqlite"
                                    if ctx.cache_dir is not None else None)
            self._generator = Generator(self.backend(), cache,
                                        max_tokens_total=o.max_tokens_total,
                                        retry_errors=o.retry_errors)
        return self._generator

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
        backend = self._generator.backend if self._generator else self.backend()
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
            row["meta"] = json.loads(row["meta"]) if row.get("meta") else {}
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
        if self._generator is not None and hasattr(self._generator.backend, "close"):
            self._generator.backend.close()

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
        usage = self._generator.usage.as_dict() if self._generator else Usage().as_dict()
        return {"usage": usage, "rows_generated": self.rows_generated,
                "rows_passed": self.rows_passed}

    def absorb_reports(self, reports: list[dict[str, Any]]) -> None:
        for r in reports:
            self.usage.add(r["after"]["usage"])
            self.usage.add(r["before"]["usage"], -1)
            for k in ("rows_generated", "rows_passed"):
                setattr(self, k, getattr(self, k) + r["after"][k] - r["before"][k])

    def stats(self, scored: pl.DataFrame, kept: pl.DataFrame,
              ctx: StageContext) -> dict[str, Any]:
        """The generation contract's counts (``failures``: requests that failed, replacing
        the per-check counts of other filters; the runner's ``dropped`` has the reasons)."""
        usage = Usage()
        usage.add(self.usage.as_dict())
        if self._generator is not None:
            usage.add(self._generator.usage.as_dict())
        backend = self._generator.backend if self._generator else self.backend()
        return {**{k: getattr(usage, k) for k in STATS_KEYS},
                "not_sent": usage.not_sent,
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


def parse_meta(value: str | None) -> dict[str, Any]:
    return json.loads(value) if value else {}
