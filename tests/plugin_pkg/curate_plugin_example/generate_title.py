"""``generate.title``: a short title for each SFT conversation, written by an LLM. A new
generation task is this module and its template (``templates/title.yaml``): ``curate generate
--task title`` and its flag ``--max-words`` come from them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from pydantic import Field

from curate import GenerateOptions, GenerateStage


class TitleOptions(GenerateOptions):
    max_words: int = Field(8, ge=1, le=30)
    """Words the title keeps at most."""


class GenerateTitle(GenerateStage):
    """Writes a title of each SFT conversation into ``title``.

    Input columns:
        - messages (SFT records; other kinds pass).

    Output columns:
        - title (str); ``meta.generation`` (task, model, backend, template_version).
    """

    id = "generate.title"
    Options = TitleOptions
    summary = "Write a short title of each conversation (LLM)."
    task = "title"
    targets = ("sft",)
    template_steps = {"title": {"conversation", "max_words"}}
    template_dir = Path(__file__).parent / "templates"
    writes = ("title",)
    cli_order = 40
    options: TitleOptions

    def column_types(self) -> dict[str, pl.DataType]:
        return {"title": pl.String}

    def generate_rows(self, rows: list[dict], ctx) -> list[Any]:
        step = self.template()["title"]
        requests = [self.request(step.messages(
            conversation="\n".join(f"{t['role']}: {t['content']}" for t in row["messages"]),
            max_words=self.options.max_words), "title", ctx) for row in rows]
        out = []
        for row, reply in zip(rows, self.generate(requests, ctx, desc=ctx.name)):
            if not reply.ok:
                out.append(("budget_exhausted", "the token budget was spent before this row")
                           if reply.not_sent else ("generation_failed", reply.error))
                continue
            words = reply.text.split()[:self.options.max_words]
            if not words:
                out.append(("empty_generation", "the model replied with nothing"))
                continue
            out.append({"title": " ".join(words),
                        "meta": {**row["meta"], "generation": self.provenance()}})
        return out
