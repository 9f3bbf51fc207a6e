"""Toxicity scores per label and the filters on them (stage ``safety.toxicity``)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal

import numpy as np
import polars as pl
from pydantic import Field, field_validator, model_validator

from ..errors import StageError
from ..io.parts import part_files
from ..safety import scorers
from ..safety.options import AUTO, Threshold, part_text, threshold_or_auto
from .base import ModelScorer, StageContext, StageOptions, StageResult, field_error
from .rows import cache_path

Part = Literal["prompt", "response", "both"]


def label_column(label: str) -> str:
    """``tox_<label>``: the label lower-cased, other characters than letters/digits as ``_``."""
    return "tox_" + re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


class ToxicityOptions(StageOptions):
    """Options of ``safety.toxicity``. A threshold set to null turns its rule off; the scores
    are computed anyway."""

    model: Literal[scorers.MODELS] = "auto"  # type: ignore[valid-type]
    """``auto`` (Detoxify ``original`` where its weights are cached or can be downloaded, else
    ``profanity-check``), a Detoxify model type (``original``, ``unbiased``, ``multilingual``,
    ``original-small``, ``unbiased-small``: an error where its weights cannot be had), or
    ``profanity-check`` (``alt-profanity-check``, offline, one label ``profanity``)."""

    checkpoint: str | None = Field(None, json_schema_extra={"path": "file"})
    """A local Detoxify checkpoint (``torch.save({"config": ..., "state_dict": ...})``, as
    Detoxify's released ones); overrides ``model``."""

    config: str | None = Field(None, json_schema_extra={"path": "dir"})
    """The folder with the checkpoint's Hugging Face config and tokenizer files
    (``huggingface_config_path``), for loading it offline."""

    on: Part = "response"
    """Which text is scored: the reply (the chosen one for a pair), the prompt, or both (each
    label's score is then the larger of the two)."""

    max: Threshold | Literal["auto"] | None = "auto"
    """Drop records whose ``toxicity`` (the largest label score) is above: reason ``toxic``.
    ``auto``: the scorer's measured default (Detoxify 0.5, profanity-check 0.9; see
    benchmarks/README.md)."""

    max_label: dict[str, float] = Field(default_factory=dict, examples=[{"insult": 0.3}])
    """Per-label thresholds, e.g. ``{insult: 0.3}``: reason ``toxic_<label>``."""

    batch_size: int = Field(default=32, ge=1)
    """Texts per model call (texts of similar length are batched together)."""

    device: str = "cpu"
    """Torch device of the Detoxify model."""

    @field_validator("max", mode="before")
    @classmethod
    def _max(cls, value: Any) -> Any:
        return threshold_or_auto(value)

    @field_validator("max_label")
    @classmethod
    def _in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for label, t in value.items():
            if not 0 <= t <= 1:
                raise ValueError(f"threshold of {label!r} must be between 0 and 1, not {t}")
        return value

    @model_validator(mode="after")
    def _config_with_checkpoint(self) -> "ToxicityOptions":
        if self.config is not None and self.checkpoint is None:
            raise field_error(type(self), "config", "goes with a checkpoint: it is the folder "
                              "of the checkpoint's config and tokenizer files")
        return self


class Toxicity(ModelScorer):
    """Scores each record's text with Detoxify (or the offline scorer) and drops toxic ones.

    One ``tox_<label>`` column per label of the model and ``toxicity``, the largest. Scores are
    cached by record id under the run's cache, so changing a threshold and rerunning
    (``--from``) scores nothing again; the stats say which scorer ran (and why, when ``auto``
    fell back).

    Input columns:
        - kind, messages / prompt, chosen (list[{role, content}]): the records.

    Output columns:
        - tox_<label> (float): the label's score in [0, 1].
        - toxicity (float): the largest label score.
        - drop_reason (str): ``toxic`` or ``toxic_<label>``, on rejected records only.

    Stats:
        ``{"thresholds": ..., "scorer": {"scorer", "version", "model", ...},
        "failures": {reason: n}, "texts_scored": n}``.

    Examples:
        ```python
        from curate.stages.safety_toxicity import Toxicity
        from curate.stages.base import StageContext

        stage = Toxicity({"checkpoint": "toxic.ckpt", "config": "bert-config/",
                          "max": 0.5, "max_label": {"insult": 0.3}})
        result = stage.apply(df, StageContext(name="safety.toxicity"))
        ```

        In a recipe:

        ```yaml
        stages:
          - use: safety.toxicity
            with: {max: 0.5, on: both}
        ```
    """

    id = "safety.toxicity"
    Options = ToxicityOptions
    summary = "Score toxicity per label (Detoxify, or alt-profanity-check offline); drop above thresholds."
    batch_size = 20_000
    cache_scores = True
    writes = ("toxicity", "tox_*")
    report_section = "safety"
    command, cli_name, cli_order = "filter", "toxicity", 20
    cli_names = {"max_label": "max-label"}

    options: ToxicityOptions

    def __init__(self, options=None):
        super().__init__(options)
        self._spec: scorers.ScorerSpec | None = None
        self._scorer = None
        self._remote_scorer: dict[str, Any] | None = None  # described by an engine's worker
        self.texts_scored = 0

    # -- the scorer -------------------------------------------------------------------------
    def spec(self) -> scorers.ScorerSpec:
        if self._spec is None:
            o = self.options
            self._spec = scorers.resolve_scorer(o.model, o.checkpoint, o.config)
        return self._spec

    def scorer(self):
        if self._scorer is None:
            self._scorer = scorers.load_scorer(self.spec(), self.options.device)
        return self._scorer

    def resolved(self) -> dict[str, Any]:
        return {"scorer": self.spec().key()}

    def scoring_fingerprint(self) -> str:
        blob = json.dumps([self.spec().key(), self.options.on], default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:12]

    def cache_text(self) -> pl.Expr:
        parts = ["prompt", "response"] if self.options.on == "both" else [self.options.on]
        return pl.concat_str([part_text(p) for p in parts], separator="\x1e")

    # -- scoring ----------------------------------------------------------------------------
    def _cached_labels(self, ctx: StageContext) -> list[str] | None:
        path = cache_path(self, ctx)
        files = part_files(path) if path is not None and path.is_dir() else []
        if not files:
            return None
        return [c for c in pl.read_parquet_schema(files[0]) if c.startswith("tox_")]

    def score(self, batch: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        if batch.height == 0:
            columns = self._cached_labels(ctx) or [label_column(x) for x in self.scorer().labels]
            self.score_columns = ("toxicity", *columns)
            return batch.with_columns([pl.lit(None, pl.Float64).alias(c)
                                       for c in self.score_columns])
        scorer = self.scorer()
        parts = ["prompt", "response"] if self.options.on == "both" else [self.options.on]
        texts = [t for p in parts for t in batch.select(part_text(p).alias("t"))["t"].to_list()]
        before = scorer.texts_scored
        scores = scorers.score_texts(scorer, texts, batch_size=self.options.batch_size,
                                     desc=f"{ctx.name} ({self.options.on})")
        self.texts_scored += scorer.texts_scored - before
        n = batch.height
        columns = {label_column(label): values.reshape(len(parts), n).max(axis=0)
                   for label, values in scores.items()}
        self.score_columns = ("toxicity", *columns)
        # the order of the score cache (toxicity first), so cached and fresh rows concatenate
        columns = {"toxicity": np.max(np.stack(list(columns.values())), axis=0), **columns}
        return batch.with_columns([pl.Series(c, v, dtype=pl.Float64) for c, v in columns.items()])

    # -- scoring elsewhere (the Ray engine's actors) -------------------------------------------
    def worker_report(self) -> dict[str, Any]:
        """What this copy of the stage has learned by scoring: texts scored, the scorer's
        labels and token limit (sent from an engine's workers to the driver's stage)."""
        scorer = self._scorer
        return {"texts_scored": self.texts_scored,
                "scorer": None if scorer is None else {"labels": list(scorer.labels),
                                                       "max_length": scorer.max_length}}

    def absorb_reports(self, reports: list[dict[str, Any]]) -> None:
        """Adds what workers' copies of the stage scored (``{"before", "after"}`` pairs of
        :meth:`worker_report`) to this stage's count and scorer description."""
        for report in reports:
            before, after = report["before"], report["after"]
            self.texts_scored += after["texts_scored"] - before["texts_scored"]
            if after["scorer"] is not None:
                self._remote_scorer = after["scorer"]

    # -- deciding ---------------------------------------------------------------------------
    def check_input(self, df: pl.DataFrame, ctx: StageContext) -> None:
        clash = [c for c in df.columns if c == "toxicity" or c.startswith("tox_")]
        if clash:
            raise StageError(f"{self.id}: the input already has toxicity columns {clash}; "
                             "a dataset is scored once (drop those columns to score again)")

    def max_toxicity(self) -> float | None:
        """``max``, with ``auto`` resolved for the scorer that runs."""
        if self.options.max == AUTO:
            return scorers.default_threshold(self.spec().kind, "max")
        return self.options.max

    def thresholds(self) -> dict[str, Any]:
        return {**super().thresholds(), "max": self.max_toxicity()}

    def checks(self, columns: list[str]) -> list[tuple[str, pl.Expr]]:
        """``(reason, failed)`` per enabled rule in check order: ``toxic``, then the labels."""
        o, top = self.options, self.max_toxicity()
        checks = [] if top is None else [("toxic", pl.col("toxicity") > top)]
        for label, t in o.max_label.items():
            col = label_column(label)
            if col not in columns:
                known = ", ".join(c[4:] for c in columns if c.startswith("tox_"))
                raise StageError(f"{self.id}: max_label {label!r}: the scorer has no such label "
                                 f"(labels: {known})")
            checks.append((f"toxic_{col[4:]}", pl.col(col) > t))
        return checks

    def stats(self, scored: pl.DataFrame, kept: pl.DataFrame,
              ctx: StageContext) -> dict[str, Any]:
        return {"scorer": scorers.describe(self.spec(), self._scorer or self._remote_scorer),
                "texts_scored": self.texts_scored}


def toxicity(df: pl.DataFrame, **options) -> StageResult:
    """Library form of the ``safety.toxicity`` stage; ``options`` as in :class:`ToxicityOptions`."""
    return Toxicity(ToxicityOptions(**options)).apply(df, StageContext(name=Toxicity.id))
