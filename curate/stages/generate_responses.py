"""Responses for prompts, or K candidate responses per prompt (stage ``generate.responses``)."""

from __future__ import annotations

from typing import Any

import polars as pl
from pydantic import Field

from .base import StageContext
from .llm_base import GenerateOptions, GenerateStage

CANDIDATES = "candidates"


class ResponsesOptions(GenerateOptions):
    """Options of ``generate.responses``."""

    n: int | None = Field(None, ge=1, le=64)
    """Candidates per prompt (seeds seed..seed+n-1, temperature 0.8 unless set) into the
    ``candidates`` column, for SFT and preference rows too; unset: one reply per prompt row."""


class GenerateResponses(GenerateStage):
    """Writes the reply of every ``prompt`` row (making it an SFT record), or with ``n``, K
    candidate replies of every row's prompt into ``candidates``.

    Prompts become SFT data, and candidates are what ``judge.llm`` compares to make
    preference pairs. Sampling, failures and stats: README, "LLM generation".

    Input columns:
        - kind, prompt (``prompt`` rows: list[{role, content}], ending with a user turn);
          with ``n``, also the prompt turns of SFT and preference rows.

    Output columns:
        - kind ``sft``, messages (the prompt + the reply) on prompt rows; ``meta.generation``
          (task, model, backend, template_version, seed).
        - candidates (list[str]): with ``n``, the K replies.
        - generation_error (str): on rejected rows, the error.

    Examples:
        ```python
        from curate.stages.generate_responses import GenerateResponses

        result = GenerateResponses({"n": 4}).apply(df)
        result.kept["candidates"]
        ```

        ```yaml
        - use: generate.responses
          with: {n: 4, llm: openai, base_url: http://127.0.0.1:8000/v1, model: my-model}
        ```
    """

    id = "generate.responses"
    Options = ResponsesOptions
    summary = "Write replies of prompt rows, or n candidate replies per prompt (LLM)."
    task = "responses"
    targets = ("prompt",)
    template_steps = {"response": set()}
    cli_order = 20
    options: ResponsesOptions

    @classmethod
    def input_format(cls, options: dict[str, Any]) -> str:
        """Prompts; with ``n``, any known format or prompts (rows without a reply)."""
        return "prompts" if options.get("n") is None else "auto+prompts"

    def targets_of(self) -> tuple[str, ...]:
        return ("prompt", "sft", "preference") if self.options.n else ("prompt",)

    def columns_written(self) -> tuple[str, ...]:
        return (CANDIDATES,) if self.options.n else ()

    def column_types(self) -> dict[str, pl.DataType]:
        return {CANDIDATES: pl.List(pl.String)}

    def prompt_of(self, row: dict) -> list[dict]:
        if row["kind"] == "sft":
            turns = list(row["messages"][:-1])
        else:
            turns = list(row["prompt"])
        system = self.template()["response"].system
        if system and not any(t["role"] == "system" for t in turns):
            turns.insert(0, {"role": "system", "content": system})
        return turns

    def requests_of(self, row: dict, ctx: StageContext) -> list:
        k = self.options.n or 1
        temperature = 0.8 if self.options.n and self.options.n > 1 else 0.0
        return [self.request(self.prompt_of(row), "response", ctx, offset=i,
                             temperature=temperature) for i in range(k)]

    def generate_rows(self, rows: list[dict], ctx: StageContext) -> list[Any]:
        per_row = [self.requests_of(r, ctx) for r in rows]
        flat = [q for qs in per_row for q in qs]
        answers = iter(self.generate(flat, ctx, desc=f"{ctx.name} ({len(flat)} requests)"))
        out = []
        for row, qs in zip(rows, per_row):
            replies = [next(answers) for _ in qs]
            failed = next((r for r in replies if not r.ok), None)
            if failed is not None:
                out.append(("budget_exhausted", "the token budget was spent before this row")
                           if failed.not_sent else ("generation_failed", failed.error))
                continue
            if any(not r.text.strip() for r in replies):
                out.append(("empty_generation", "the model replied with nothing"))
                continue
            texts = [r.text for r in replies]
            seeds = [q.sampling.seed for q in qs]
            meta = {**row["meta"], "generation": self.provenance(seed=seeds[0] if len(seeds) == 1
                                                                 else seeds)}
            result: dict[str, Any] = {"meta": meta}
            if self.options.n:
                result[CANDIDATES] = texts
            if row["kind"] == "prompt":
                result.update(kind="sft", prompt=None,
                              messages=list(row["prompt"]) + [{"role": "assistant",
                                                               "content": texts[0]}])
            out.append(result)
        return out
