"""LLM judges of candidate replies (stage ``judge.llm``): rubric scores or order-checked
pairwise verdicts, by one or several judges, with their position bias and agreement."""

from __future__ import annotations

import re
import zlib
from collections import Counter
from typing import Any, Literal

import polars as pl
from pydantic import Field, field_validator, model_validator

from ..errors import CurateError
from ..judge import columns as jc
from ..judge.checklist import question_of, yes_no
from ..judge.combine import candidate_pairs, order_checked, pairwise_row, pointwise_row
from ..judge.parse import pairwise_verdict, rubric_scores
from ..judge.specs import JudgeSpec, parse_judges, spec_of
from ..judge.stats import frame_stats
from ..llm.backends import BackendSpec
from ..llm.models import PACKAGED
from .base import StageContext
from .llm_base import GenerateOptions, GenerateStage, check_openai

ASPECTS = ["helpfulness", "honesty", "harmlessness", "instruction_following"]
_MAPPED = ({"A": "a", "B": "b", "tie": "tie"}, {"A": "b", "B": "a", "tie": "tie"})


class JudgeOptions(GenerateOptions):
    """Options of ``judge.llm`` (the backend options are those of the one judge used when
    ``judges`` is unset)."""

    mode: Literal["pairwise", "pointwise", "checklist"] = "pairwise"
    """pairwise: every candidate pair judged in both orders (a verdict that flips with the
    order is a tie, flagged position_inconsistent); pointwise: a 1-scale rubric score per
    aspect and candidate; checklist: a yes/no question per aspect and candidate (score: the
    share of yes; what small models answer readably)."""

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
    # a mode's steps: adding a mode is its step here, its branch below and its template entry
    template_steps = {"pointwise": {"instruction", "response", "aspects", "scale", "example"},
                      "pairwise": {"instruction", "response_a", "response_b"},
                      "checklist": {"instruction", "response", "question"}}
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

    # -- declarations ------------------------------------------------------------------------
    def specs(self) -> list[JudgeSpec]:
        o = self.options
        return parse_judges(o.judges or [spec_of(o.llm, o.model, o.base_url)])

    def backend_specs(self) -> list[BackendSpec]:
        return self.specs()

    def judge_names(self) -> list[str]:
        return [s.name for s in self.specs()]

    def columns_written(self) -> tuple[str, ...]:
        aspects = (tuple(jc.aspect_column(a) for a in self.options.aspects)
                   if self.options.mode != "pairwise" else ())
        return tuple(jc.TYPES) + aspects

    def column_types(self) -> dict[str, pl.DataType]:
        return {**jc.TYPES, **{jc.aspect_column(a): pl.List(pl.Float64)
                               for a in self.options.aspects}}

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
        """(what it asks, request) for one judge: ``("pair", a, b, shown_first)`` or
        ``("rate", i)``."""
        instruction = self.instruction_of(row)
        out = []
        if self.options.mode == "pairwise":
            seed = zlib.crc32(f"{ctx.seed}:{row['id']}".encode())
            for a, b in candidate_pairs(len(cands), max_pairs_k=self.options.max_pairs_k,
                                        seed=seed):
                for first, second in ((a, b), (b, a)):
                    messages = self.template()["pairwise"].messages(
                        instruction=instruction, response_a=cands[first],
                        response_b=cands[second])
                    out.append((("pair", a, b, first), self.request(messages, "pairwise", ctx)))
            return out
        scale, aspects = self.options.scale, self.options.aspects
        if self.options.mode == "checklist":
            for i, text in enumerate(cands):
                for aspect in aspects:
                    messages = self.template()["checklist"].messages(
                        instruction=instruction, response=text, question=question_of(aspect))
                    out.append((("check", i, aspect), self.request(messages, "checklist", ctx)))
            return out
        example = "\n".join(f"{a.replace('_', ' ').capitalize()}: N" for a in aspects)
        for i, text in enumerate(cands):
            messages = self.template()["pointwise"].messages(
                instruction=instruction, response=text, scale=scale,
                aspects=", ".join(a.replace("_", " ") for a in aspects), example=example)
            out.append((("rate", i), self.request(messages, "pointwise", ctx)))
        return out

    def generate_rows(self, rows: list[dict], ctx: StageContext) -> list[Any]:
        names = self.judge_names()
        cands = [self.candidates_of(r) for r in rows]
        asks = [self._requests(r, c, ctx) if len(c) >= (2 if self.options.mode == "pairwise"
                                                         else 1) else []
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
        usable = 0
        if self.options.mode == "pairwise":
            found: dict[tuple, dict] = {}
            for name, judged in zip(names, replies):
                for ((_, a, b, first), _), reply in zip(ask, judged):
                    said = pairwise_verdict(reply.text)
                    self.unparseable[name] += said is None
                    entry = found.setdefault((name, a, b), {"judge": name, "a": a, "b": b})
                    entry["ab" if first == a else "ba"] = (
                        None if said is None else _MAPPED[first != a][said])
            comparisons = []
            for entry in found.values():
                entry["verdict"], entry["consistent"] = order_checked(entry["ab"], entry["ba"])
                comparisons.append(entry)
                usable += entry["verdict"] is not None  # order-checked verdicts only
            combined = pairwise_row(len(cands), comparisons, self.options.aggregate)
            result.update({jc.COMPARISONS: comparisons,
                           jc.POSITION_INCONSISTENT: combined["inconsistent"]})
        else:
            votes = []
            aspects = self.options.aspects
            for name, judged in zip(names, replies):
                for ((_, i, *asked), _), reply in zip(ask, judged):
                    if asked:  # checklist: one aspect's yes/no
                        scores = {asked[0]: yes_no(reply.text)}
                    else:
                        scores = rubric_scores(reply.text, aspects, self.options.scale)
                    readable = any(s is not None for s in scores.values())
                    self.unparseable[name] += not readable
                    usable += readable
                    votes += [{"judge": name, "candidate": i, "aspect": a, "score": s}
                              for a, s in scores.items()]
            combined = pointwise_row(len(cands), votes, names, aspects, self.options.aggregate)
            result[jc.VOTES] = votes
            result.update({jc.aspect_column(a): v for a, v in combined["aspects"].items()})
        if ask and not usable:
            shown = next((r.text for r in flat if r.text), "")[:200]
            what = ("a usable answer in both orders of any pair"
                    if self.options.mode == "pairwise" else "a usable answer")
            return "unparseable", f"no judge gave {what} (e.g. {shown!r})"
        result.update({jc.SCORE: combined["scores"] if ask else [None] * len(cands),
                       jc.DISAGREEMENT: combined["disagreement"] if ask else False,
                       jc.MARGIN: combined["margin"] if ask else None})
        return result

    # -- the manifest ----------------------------------------------------------------------
    def stats(self, scored: pl.DataFrame, kept: pl.DataFrame,
              ctx: StageContext) -> dict[str, Any]:
        names, o = self.judge_names(), self.options
        reliability = frame_stats(scored, o.mode, names)
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
