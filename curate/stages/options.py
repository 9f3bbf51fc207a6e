"""Options that the stages of one family share: dedup's ``on`` and ``keep``, decontamination's
benchmarks."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from ..messages import Part
from .base import StageOptions
from .dedup_against import ReferenceOptions
from .dedup_keep import Keep, keep_columns


class DedupOptions(ReferenceOptions):
    """Options shared by the near and semantic dedup stages (``keep`` and ``against`` come
    from :class:`~curate.stages.dedup_against.ReferenceOptions`)."""

    on: Part = "conversation"
    """Which part of a record is compared: prompt, response, conversation or pair (as in
    ``dedup.exact``)."""


def keep_column(keep: Keep) -> tuple[str, ...]:
    """The columns a ``keep`` option reads (see :func:`curate.stages.dedup_keep.keep_columns`)."""
    return keep_columns(keep)


class BenchmarkOptions(StageOptions):
    """Options shared by the decontamination stages."""

    benchmarks: dict[str, str] = Field(default_factory=dict, examples=[{"mmlu": "mmlu.jsonl"}],
                                       json_schema_extra={"path": "values",
                                                          "required": True})
    """Benchmarks to check against, as NAME=PATH (JSON Lines, JSON, parquet, CSV, a saved HF
    dataset or a folder of them)."""
    fields: list[str] | None = None
    """Text fields of the benchmark files (comma-separated on the command line); default:
    the question/prompt/instruction/input/query/problem and answer/output/solution/response/
    completion/target fields present."""
    action: Literal["drop", "mark"] = "drop"
    """drop: remove contaminated records (reason ``contaminated``); mark: keep them, with the
    ``contaminated_*`` columns set."""

    @field_validator("fields", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [f.strip() for f in value.split(",") if f.strip()] or None
        return value
