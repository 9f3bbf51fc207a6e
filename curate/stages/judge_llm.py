"""LLM judges of candidate replies (stage ``judge.llm``): rubric scores or order-checked
pairwise verdicts, by one or several judges, with their position bias and agreement."""

from __future__ import annotations

import re
import zlib
from collections import Counter
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import Field, field_validator, model_validator

from ..errors import CurateError
from ..judge import columns as jc
from ..judge.modes import JudgeMode, mode_class, mode_names, modes_help, template_steps
from ..judge.specs import JudgeSpec, parse_judges, spec_of
from ..llm.backends import BackendSpec
from ..llm.models import PACKAGED
from ..llm.templates import Template, load_template
from .base import Choices, StageContext
from .llm_base import GenerateOptions, GenerateStage, check_openai
from .registry import load_plugins

ASPECTS = ["helpfulness", "honesty", "harmlessness", "instruction_following"]


def _modes() -> list[str]:
    load_plugins()  # an installed package's modes
    return mode_names()


def _modes_help() -> str:
    load_plugins()
    return modes_help()


class JudgeOptions(GenerateOptions):
    """Options of ``judge.llm`` (the backend options are those of the one judge used when
    ``judges`` is unset)."""

    mode: Annotated[str, Choices(_modes, _modes_help)] = "pairwise"
    """How the candidates are judged: a mode of :mod:`curate.judge.modes` (pairwise,
    pointwise, checklist) or of an installed plugin."""

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, value: str) -> str:
        load_plugins()
        try:
            mode_class(value)
        except CurateError as exc:
            raise ValueError(str(exc)) from None
        return value

    judges: list[str] | None = Field(None, json_schema_extra={"repeat": True,
                                                              "metavar": "SPEC"})
    """A judge: local (the packaged SmolLM2-135M), local:PATH_OR_NAME or openai:MODEL@BASE_URL
    (key in CURATE_LLM_API_KEY); repeat for several judges; unset: the one judge of
    ``llm``/``model``/``base_url``, local by default."""

    aspects: list[str] = Field(default_factory=lambda: list(ASPECTS), min_length=1)
    """pointwise and checklist: the rubric's aspects (a judge_<aspect> column each; lower-case
    words joined by _)."""

    @field_validator("aspects")
    @classmethod
    def _aspect_names(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if not re.fullmatch(r"[a-z][a-z0-9_]*", a)]
        if bad:
            raise ValueError(f"aspects {bad}: expected lower-case words joined by _, e.g. "
                             "instruction_following")
        return value

    scale: int = Field(10, ge=2, le=100)
    """pointwise: the top of the rubric's scale (scores 1..scale, e.g. 5 or 10)."""

    aggregate: Literal["mean", "majority"] = "mean"
    """Over judges: mean (pairwise: every judge's verdict counts; pointwise: mean score) or
    majority (pairwise: each pair's majority verdict; pointwise: the median score)."""

    max_pairs_k: int = Field(4, ge=2)
    """pairwise: judge every pair of up to this many candidates; more: each candidate against
    its two neighbours in a seeded order."""

    @field_validator("judges")
    @classmethod
    def _judge_specs(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            try:
                parse_judges(value)
            except CurateError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _backend(self) -> "JudgeOptions":  # replaces GenerateOptions': judges name theirs
        if self.judges is None and self.llm == "openai":
            check_openai(type(self), self.model, self.base_url)
        return self


class JudgeLLM(GenerateStage):
    """Judges each SFT row's ``candidates`` (or its reply) and each preference row's chosen and
    rejected replies (or its ``candidates``) with one or more LLM judges: pairwise verdicts
    checked in both orders, pointwise rubric scores or a yes/no checklist.

    Judged candidates are what ``judge.pairs`` turns into preference pairs; verdicts that flip
    with the order shown are ties, so no pair rests on position bias. Modes, parsing,
    rejections and stats: README, "LLM judges".

    Input columns:
        - kind, messages / prompt, chosen, rejected; ``candidates`` (list[str]) where present
          (as a column, or ``meta.candidates`` from a JSONL input).

    Output columns:
        - the judge columns of :mod:`curate.judge.columns`: judge_candidates, judge_score,
          judge_votes (pointwise) or judge_comparisons (pairwise), judge_<aspect>
          (pointwise, checklist), position_inconsistent, judge_disagreement, judge_margin,
          ``meta.judge``.
        - judge_error (str), drop_reason (``judge_failed``, ``unparseable``,
          ``budget_exhausted``): on rejected rows.

    Examples:
        ```python
        from curate.stages.judge_llm import JudgeLLM

        result = JudgeLLM({"judges": ["openai:m@http://127.0.0.1:8000/v1", "local"]}).apply(df)
        result.kept["judge_score"], result.stats["position_bias_rate"]
        ```

        ```yaml
        - use: judge.llm
          with: {mode: pointwise, scale: 5, judges: [local]}
        ```
    """

    id = "judge.llm"
    Options = JudgeOptions
    summary = "Judge candidate replies with LLM judges (pairwise order-checked, rubric, checklist)."
    task = "judge"
    targets = ("sft", "preference")
    # the template steps, requests and result columns are the mode's (curate.judge.modes)
    batch_size = 32
    report_section = "judge"
    command, cli_name, cli_order = "judge", "judge", 10
    cli_names = {"judges": "judge"}  # `curate judge --judge SPEC`, repeated
    cli_hidden = ("llm", "model", "base_url")  # on the command line a judge is a --judge SPEC
    reason_column, error_column = "judge_reason", "judge_error"
    reasons, failed_reason, done_word = jc.JUDGE_REASONS, "judge_failed", "judged"
    counted = GenerateStage.counted + ("unparseable",)
    options: JudgeOptions

    def __init__(self, options=None):
        self.unparseable: Counter = Counter()
        super().__init__(options)
        self.mode: JudgeMode = mode_class(self.options.mode)(self.options)

    def template(self) -> Template:
        if self._template is None:
            mode = type(self.mode)
            self._template = load_template(mode.template_name, template_steps(mode),
                                           self.options.template,
                                           directory=mode.template_dir)
        return self._template

    # -- declarations ------------------------------------------------------------------------
    def specs(self) -> list[JudgeSpec]:
        o = self.options
        return parse_judges(o.judges or [spec_of(o.llm, o.model, o.base_url)])

    def backend_specs(self) -> list[BackendSpec]:
        return self.specs()

    def judge_names(self) -> list[str]:
        return [s.name for s in self.specs()]

    def columns_written(self) -> tuple[str, ...]:
        return tuple(jc.TYPES) + tuple(jc.aspect_column(a) for a in self.mode.aspects())

    def column_types(self) -> dict[str, pl.DataType]:
        return {**jc.TYPES, **{jc.aspect_column(a): pl.List(pl.Float64)
                               for a in [*self.options.aspects, *self.mode.aspects()]}}

    # -- the judges ------------------------------------------------------------------------
    def judge_meta(self) -> dict[str, Any]:
        return {"mode": self.options.mode, "template_version": self.template().version,
                "aggregate": self.options.aggregate,
                "judges": [{"name": s.name, "model": s.model or PACKAGED,
                            "backend": s.llm} for s in self.specs()]}

    # -- the rows ----------------------------------------------------------------------------
    @staticmethod
    def candidates_of(row: dict) -> list[str]:
        # a JSONL/JSON input's `candidates` key arrives in meta (convert keeps unknown keys
        # there); a curate run's parquet keeps the column
        listed = row.get("candidates") or row["meta"].get("candidates")
        if isinstance(listed, list) and all(isinstance(c, str) for c in listed) and listed:
            return list(listed)
        if row["kind"] == "sft":
            return [row["messages"][-1]["content"]] if row.get("messages") else []
        return [turns[-1]["content"] for turns in (row.get("chosen"), row.get("rejected"))
                if turns]

    @staticmethod
    def instruction_of(row: dict) -> str:
        turns = row["messages"][:-1] if row["kind"] == "sft" else (row.get("prompt") or [])
        if len(turns) == 1:
            return turns[0]["content"]
        return "\n".join(f"{t['role']}: {t['content']}" for t in turns)

    def _requests(self, row: dict, cands: list[str], ctx: StageContext) -> list[tuple]:
        """(what it asks, request) for one judge, as the mode asks them."""
        def ask(step: str, **fields: Any):
            return self.request(self.template()[step].messages(**fields), step, ctx)

        seed = zlib.crc32(f"{ctx.seed}:{row['id']}".encode())
        return self.mode.requests(self.instruction_of(row), cands, ask, seed)

    def generate_rows(self, rows: list[dict], ctx: StageContext) -> list[Any]:
        names = self.judge_names()
        cands = [self.candidates_of(r) for r in rows]
        asks = [self._requests(r, c, ctx) if len(c) >= self.mode.min_candidates else []
                for r, c in zip(rows, cands)]
        answers = []  # per judge: per row: responses
        for name, generator in zip(names, self.generators(ctx)):
            flat = [q for ask in asks for _, q in ask]
            replies = iter(generator.generate(flat, desc=f"{ctx.name} {name} "
                                                         f"({len(flat)} requests)"))
            answers.append([[next(replies) for _ in ask] for ask in asks])
        return [self._row_result(row, c, ask, [per_judge[k] for per_judge in answers], names)
                for k, (row, c, ask) in enumerate(zip(rows, cands, asks))]

    def _row_result(self, row: dict, cands: list[str], ask: list[tuple],
                    replies: list[list], names: list[str]) -> Any:
        flat = [r for per_judge in replies for r in per_judge]
        if any(r.not_sent for r in flat):
            return "budget_exhausted", "the token budget was spent before this row"
        failed = next((r for r in flat if r.error is not None), None)
        if failed is not None:
            return "judge_failed", failed.error
        result: dict[str, Any] = {jc.CANDIDATES: cands, "meta": {**row["meta"],
                                                                 "judge": self.judge_meta()}}
        columns, usable, combined = self.mode.result(
            cands, [what for what, _ in ask], replies, names, self.unparseable)
        result.update(columns)
        if ask and not usable:
            shown = next((r.text for r in flat if r.text), "")[:200]
            return "unparseable", f"no judge gave {self.mode.unusable} (e.g. {shown!r})"
        result.update({jc.SCORE: combined["scores"] if ask else [None] * len(cands),
                       jc.DISAGREEMENT: combined["disagreement"] if ask else False,
                       jc.MARGIN: combined["margin"] if ask else None})
        return result

    # -- the manifest ----------------------------------------------------------------------
    def stats(self, scored: pl.DataFrame, kept: pl.DataFrame,
              ctx: StageContext) -> dict[str, Any]:
        names, o = self.judge_names(), self.options
        reliability = self.mode.stats(scored, names)
        position = reliability.get("position", {})
        judges = []
        for spec in self.specs():
            usage = self.backends.usage(spec.name)
            judges.append({"name": spec.name, "model": spec.model or PACKAGED,
                           "backend": spec.llm, "requests": usage.requests,
                           "cache_hits": usage.cache_hits, "failures": usage.failures,
                           "unparseable": int(self.unparseable[spec.name]),
                           **position.get("per_judge", {}).get(spec.name, {})})
        return {**self.usage_stats(), "mode": o.mode, "aggregate": o.aggregate,
                "template_version": self.template().version,
                "model": ", ".join(j["model"] for j in judges),
                "backend": ", ".join(sorted({j["backend"] for j in judges})),
                "judges": judges, "comparisons": position.get("comparisons"),
                "inconsistent": position.get("inconsistent"),
                "position_bias_rate": position.get("position_bias_rate"),
                "agreement": reliability["agreement"],
                "rows_judged": self.rows_generated, "passed_through": self.rows_passed,
                "first_error": self.first_error(scored)}
