"""Heuristic quality rules for SFT and preference records (stage ``quality.rules``)."""

from __future__ import annotations

import polars as pl
from pydantic import Field

from ..quality import rules
from .base import RowScorer, StageContext, StageOptions, StageResult

# Score columns, in the order they are added.
SCORE_COLUMNS = (
    "quality_min_turn_chars",
    "quality_role_order_ok",
    "quality_response_chars",
    "quality_max_turn_chars",
    "quality_text_ratio",
    "quality_repetition",
    "quality_refusal",
)
# Drop reasons in the fixed order in which they are checked: a row that fails several rules is
# rejected with the first one (structure first, then size, then content).
RULES = ("empty_turn", "role_order", "too_short", "too_long", "junk", "repetition", "refusal")


class QualityRulesOptions(StageOptions):
    """Options of ``quality.rules``. A threshold set to null (None), or a switch set to false,
    turns its rule off; its score is still computed."""

    drop_empty_turns: bool = True
    """Drop records with a turn (any turn, chosen and rejected replies included) that is empty
    or only white space (a turn that only calls tools is not): reason ``empty_turn``, score
    ``quality_min_turn_chars``."""

    check_role_order: bool = True
    """Drop records whose roles are out of order: reason ``role_order``, score
    ``quality_role_order_ok``. SFT: an optional system turn, then user and assistant turns
    alternating from a user turn and ending with an assistant turn. Tool turns (one or more, for
    parallel calls) only right after an assistant turn and followed by an assistant turn.
    Preference: the prompt in the same order but ending with a user turn; chosen and rejected
    are assistant turns (tool results allowed between two assistant turns)."""

    min_response_chars: int | None = Field(default=2, ge=0)
    """Drop records whose reply (the last SFT turn, or the chosen reply) has fewer characters,
    white space stripped: reason ``too_short``, score ``quality_response_chars``."""

    max_turn_chars: int | None = Field(default=20_000, ge=1)
    """Drop records with any turn longer than this many characters: reason ``too_long``, score
    ``quality_max_turn_chars``."""

    min_text_ratio: float | None = Field(default=0.8, ge=0, le=1)
    """Drop records whose share of text characters over all turns is lower: reason ``junk``,
    score ``quality_text_ratio``. Text is letters, marks, digits, white space, punctuation and
    symbols (so code, tables, math, emoji and box drawing count as text). Not text: mojibake
    (UTF-8 read as Latin-1/cp1252, e.g. ``Ã©``, ``â€™``), base64/hex-like tokens of 80+
    characters, runs of 16+ punctuation/symbols that are not markdown/rst layout (``|---|``,
    ``=====``, ``____``), control and private-use characters and U+FFFD. Real instruction data
    (alpaca_eval outputs, the Python FAQ) scores 1.0 almost everywhere; 0.8 leaves a wide margin
    and drops replies that are mostly junk. Light mojibake in otherwise clean Latin text
    (a few accents per sentence) stays above 0.8."""

    repetition_ngram: int = Field(default=3, ge=1)
    """Word n-gram size of the repetition score."""

    max_repetition: float | None = Field(default=0.6, ge=0, le=1)
    """Drop records whose reply repeats itself: reason ``repetition``, score
    ``quality_repetition`` = 1 - unique / total word n-grams of the reply (words are lower-cased,
    white-space separated tokens; for a pair, the larger of the chosen and rejected replies');
    replies with fewer than ``repetition_ngram`` words score 0. On real model outputs, templated
    lists and markdown tables reach 0.5-0.55 and degenerate loops 0.6-0.9, hence 0.6."""

    drop_refusals: bool = True
    """Drop records whose reply is a boilerplate refusal or AI disclaimer (case-insensitive match
    of :data:`curate.quality.rules.REFUSAL_PATTERNS`): reason ``refusal``, score
    ``quality_refusal``. Only the reply is checked (the chosen one for a pair: a refusing
    rejected reply is a useful negative)."""


class QualityRules(RowScorer):
    """Scores records with cheap text heuristics and drops the ones that fail a rule.

    Each rule writes a ``quality_*`` score on every record and its threshold decides (null or
    false turns it off). A record that fails several rules is rejected once, with the first
    reason in the order ``empty_turn``, ``role_order``, ``too_short``, ``too_long``, ``junk``,
    ``repetition``, ``refusal``; the stats count every rule's failures.

    Input columns:
        - kind (str): ``sft`` or ``preference``.
        - messages (list[{role, content}]): for SFT records.
        - prompt, chosen, rejected (list[{role, content}]): for preference records.

    Output columns:
        - quality_min_turn_chars (int): shortest turn, white space stripped.
        - quality_role_order_ok (bool): whether the roles are in a valid order.
        - quality_response_chars (int): characters of the reply, stripped.
        - quality_max_turn_chars (int): longest turn.
        - quality_text_ratio (float): share of text characters (null with no text).
        - quality_repetition (float): 1 - unique / total word n-grams of the reply.
        - quality_refusal (bool): whether the reply is a boilerplate refusal.
        - drop_reason (str): on rejected records only.

    Stats:
        ``{"thresholds": {...}, "failures": {rule: n}}`` for every enabled rule.

    Examples:
        ```python
        from curate.stages.quality import QualityRules
        from curate.stages.base import StageContext

        stage = QualityRules({"max_repetition": 0.4, "drop_refusals": False})
        result = stage.apply(df, StageContext(name="quality.rules"))
        result.stats["failures"]   # {"empty_turn": 0, "role_order": 1, ...}
        ```

        In a recipe:

        ```yaml
        stages:
          - use: quality.rules
            with: {min_text_ratio: 0.7, max_turn_chars: null}
        ```
    """

    id = "quality.rules"
    Options = QualityRulesOptions
    summary = "Drop empty, too short/long, repetitive, junk, misordered and refusal records."
    score_columns = SCORE_COLUMNS
    writes = SCORE_COLUMNS
    command, cli_name, cli_prefix, cli_default_on, cli_order = "filter", "quality", "", True, 10

    options: QualityRulesOptions

    def score(self, batch: pl.DataFrame, ctx: StageContext | None = None) -> pl.DataFrame:
        repetition = rules.repetition(batch, self.options.repetition_ngram)
        return batch.with_columns(
            rules.min_turn_chars().alias("quality_min_turn_chars"),
            rules.role_order_ok().alias("quality_role_order_ok"),
            rules.response_chars().alias("quality_response_chars"),
            rules.max_turn_chars().alias("quality_max_turn_chars"),
            rules.text_ratio().alias("quality_text_ratio"),
            repetition.alias("quality_repetition"),
            rules.refusal().alias("quality_refusal"),
        )

    def scoring_fingerprint(self) -> str:
        # Only the n-gram size changes a score; the other options are thresholds.
        return f"ngram{self.options.repetition_ngram}"

    def checks(self, columns: list[str]) -> list[tuple[str, pl.Expr]]:
        """``(reason, failed)`` for each enabled rule, in check order."""
        o = self.options
        checks: list[tuple[str, pl.Expr | None]] = [
            ("empty_turn", pl.col("quality_min_turn_chars") == 0 if o.drop_empty_turns else None),
            ("role_order", ~pl.col("quality_role_order_ok") if o.check_role_order else None),
            ("too_short", None if o.min_response_chars is None
             else pl.col("quality_response_chars") < o.min_response_chars),
            ("too_long", None if o.max_turn_chars is None
             else pl.col("quality_max_turn_chars") > o.max_turn_chars),
            ("junk", None if o.min_text_ratio is None
             else pl.col("quality_text_ratio") < o.min_text_ratio),
            ("repetition", None if o.max_repetition is None
             else pl.col("quality_repetition") > o.max_repetition),
            ("refusal", pl.col("quality_refusal") if o.drop_refusals else None),
        ]
        return [(name, expr) for name, expr in checks if expr is not None]


def quality_rules(df: pl.DataFrame, **options) -> StageResult:
    """Library form of the ``quality.rules`` stage; ``options`` as in
    :class:`QualityRulesOptions`."""
    stage = QualityRules(QualityRulesOptions(**options))
    return stage.apply(df, StageContext(name=QualityRules.id))
