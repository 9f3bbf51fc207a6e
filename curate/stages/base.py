"""The stage contract: what a stage declares, and what an engine does with it.

A stage reads the run's data piece by piece and writes what it kept and what it removed (each
removed row with a ``drop_reason``); it adds columns and never changes input columns, and the
runner checks ``rows_in == rows_out + sum(dropped)`` after it. Its class declares what the rest
of curate needs: ``id`` (defining the class registers it), ``Options`` (the recipe's ``with:``
and the CLI flags' help and defaults), ``reads``/``writes`` (checked before any data moves), its
shape by its base class (:class:`RowScorer`, :class:`ModelScorer`,
:class:`~curate.stages.keyed.KeyedGrouping` or :class:`Stage`), where its flags go
(``command``, ``cli_*``), the report module that shows it (``report_section``) and, for a stage
that looks at the whole run, ``finish_run``. The README's "Writing a stage" has the shapes and
what engines do with each; a stage never learns which engine runs it.

Examples:
    A new row-wise filter is one module in ``curate/stages/`` (plus its test and, if it wants
    one, a report section); nothing in ``curate/engines/`` or ``curate/cli/`` changes, and it
    runs on both engines and gets its ``curate filter`` flags (``--shouting``,
    ``--shouting-max-caps``):

    ```python
    import polars as pl
    from pydantic import Field

    from curate.messages import response_messages
    from curate.stages.base import RowScorer, StageOptions


    class ShoutingOptions(StageOptions):
        max_caps: float | None = Field(0.5, ge=0, le=1)
        \"\"\"Drop replies whose share of upper-case letters is above: reason ``shouting``.\"\"\"


    class Shouting(RowScorer):
        \"\"\"Drops replies written in capitals.\"\"\"

        id = "quality.shouting"
        Options = ShoutingOptions
        summary = "Drop replies written in capitals."
        writes = ("caps_ratio",)
        command, cli_name = "filter", "shouting"

        def score(self, batch, ctx):
            text = response_messages().list.eval(pl.element().struct.field("content")) \\
                .list.join(" ").fill_null("")
            letters = text.str.count_matches(r"\\p{L}")
            caps = text.str.count_matches(r"\\p{Lu}")
            return batch.with_columns((caps / letters).alias("caps_ratio"))

        def checks(self, columns):
            t = self.options.max_caps
            return [] if t is None else [("shouting", pl.col("caps_ratio") > t)]
    ```

    ``Shouting({"max_caps": 0.3}).apply(df)`` runs it on a frame (the frame API); in a recipe
    it is ``- use: quality.shouting``, and ``--engine ray`` runs its pieces as Ray tasks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..columns import KEPT_ID  # noqa: F401  (stages import it from here)
from ..engines.local import LocalEngine
from ..io.parts import ROW
from ..messages import all_turns, join_messages, with_call_text
from .context import Shape, StageContext  # noqa: F401  (stages import them from here)
from .known import register
from .results import (DROP_REASON, PieceReport, StageData, StageOutput,  # noqa: F401
                      StageResult, merge_counts)  # (stages import them from here)
from .rows import run_rows

if TYPE_CHECKING:  # pragma: no cover
    from ..engines.protocol import Engine


class StageOptions(BaseModel):
    """Base of every stage's ``with:`` block; unknown keys are an error. A field's docstring
    is its description (and the help of its CLI flag)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


def field_error(model: type[BaseModel], field: str, message: str) -> ValidationError:
    """A ValidationError of ``model`` located at ``field``: what a model validator that
    compares several fields raises, so that the recipe path (``stages[0].with.model``) and
    the CLI flag (``--model``) name the field to change."""
    return ValidationError.from_exception_data(model.__name__, [InitErrorDetails(
        type=PydanticCustomError("value_error", message), loc=(field,), input=None)])


@dataclass(frozen=True)
class Choices:
    """The values of a ``str`` option known only when they are asked for (the judge modes,
    plugins' included): ``Annotated[str, Choices(names, help)]``. The flag's choices are
    ``names()`` and its help ``help()``; the options model checks the value itself."""

    names: Callable[[], list[str]]
    help: Callable[[], str] | None = None


class Stage:
    """A pipeline step registered under ``id``; see the module docs for what it declares.

    A ``global`` stage (this base class) implements :meth:`run`; the other shapes derive from
    :class:`RowScorer`, :class:`ModelScorer` or :class:`~curate.stages.keyed.KeyedGrouping`,
    which implement :meth:`run` from the stage's own steps. A stage outside curate is found
    by its ``id`` once its module is imported, or through the ``curate.stages`` entry points
    of an installed package (see README, "Writing a stage plugin").

    Examples:
        >>> import polars as pl, curate
        >>> from curate.records import records_to_frame
        >>> class ShortReplies(curate.RowScorer):
        ...     summary = "Drop replies shorter than min_chars."
        ...     class Options(curate.StageOptions):
        ...         min_chars: int = 3
        ...     writes = ("reply_chars",)
        ...     def score(self, batch, ctx):
        ...         reply = pl.col("messages").list.last().struct.field("content")
        ...         return batch.with_columns(reply.str.len_chars().alias("reply_chars"))
        ...     def checks(self, columns):
        ...         return [("short_reply", pl.col("reply_chars") < self.options.min_chars)]
        >>> df = records_to_frame([
        ...     {"id": str(i), "source": "ex", "meta": {}, "messages": [
        ...         {"role": "user", "content": "Hi?"}, {"role": "assistant", "content": a}]}
        ...     for i, a in enumerate(["Hello there.", "Hm"])])
        >>> result = ShortReplies({"min_chars": 4}).apply(df)
        >>> result.kept["reply_chars"].to_list(), result.dropped()
        ([12], {'short_reply': 1})
    """

    id: ClassVar[str] = ""
    Options: ClassVar[type[StageOptions]] = StageOptions
    summary: ClassVar[str] = ""
    shape: ClassVar[Shape] = Shape.GLOBAL
    reads: ClassVar[tuple[str, ...]] = ()
    writes: ClassVar[tuple[str, ...]] = ()
    report_section: ClassVar[str | None] = None
    # where the options appear on the command line (see curate.cli.options.stage_flags)
    command: ClassVar[str | None] = None
    cli_name: ClassVar[str] = ""
    cli_prefix: ClassVar[str | None] = None  # default: f"{cli_name}-"
    cli_names: ClassVar[dict[str, str]] = {}
    cli_switch: ClassVar[str | None] = None  # a field whose flag is --<cli_name> itself
    cli_default_on: ClassVar[bool] = False
    cli_order: ClassVar[int] = 100

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("id"):
            register(cls)

    def __init__(self, options: StageOptions | dict | None = None):
        if options is None or isinstance(options, dict):
            options = self.Options(**(options or {}))
        self.options = options

    # -- what the stage declares ----------------------------------------------------------
    def columns_read(self) -> tuple[str, ...]:
        """Columns beyond the record columns that must exist before the stage runs."""
        return self.reads

    def columns_written(self) -> tuple[str, ...]:
        """Columns the stage adds (``prefix*`` for a family of columns)."""
        return self.writes

    def resolved(self) -> dict[str, Any]:
        """What options resolved to on this machine (e.g. ``model: auto`` -> the scorer that
        runs); part of the fingerprint, so a checkpoint made with another is not reused."""
        return {}

    def fingerprint(self) -> str:
        """Changes when the stage, its options or what they resolved to change."""
        blob = json.dumps([self.id, self.options.model_dump(mode="json"), self.resolved()],
                          sort_keys=True, default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:12]

    def thresholds(self) -> dict[str, Any]:
        """The options that decide what is kept, for the manifest."""
        return self.options.model_dump(mode="json")

    def finish_run(self, run: Any) -> dict[str, Any] | None:
        """A step after the run's last stage, for a stage that looks at the whole run (e.g.
        the bias audit over every stage's removals): ``run`` is a
        :class:`curate.finished_run.FinishedRun`; what it returns goes to the stage's stats
        under ``run``. By default there is none."""
        return None

    def failure(self, result: StageResult) -> str | None:
        """Why the stage's work all failed (e.g. every LLM request), or None: the runner then
        writes the stage's rows (its rejected rows hold the errors) and stops the run with this
        message, so that a command whose work all failed exits non-zero."""
        return None

    # -- running --------------------------------------------------------------------------
    def run(self, data: StageData, ctx: StageContext, engine: Engine) -> StageOutput:
        """The stage on ``data.source``, its kept and rejected rows written to ``data.kept``
        and ``data.rejected`` piece by piece (with ``data.writer(folder)``, which keeps them
        in memory for the frame API), the heavy steps through ``engine``'s primitives; never
        the whole dataset in memory (see :mod:`curate.stages.marks` for the
        decide-then-apply pattern of global stages)."""
        raise NotImplementedError(f"{type(self).__name__} implements no run()")

    def apply(self, df: pl.DataFrame, ctx: StageContext | None = None,
              engine: Engine | None = None) -> StageResult:
        """Run the stage on a frame (on the local engine unless one is given): the frame API,
        for notebooks and tests. The local engine hands the stage slices of the frame and
        keeps its outputs as frames (no parquet but what a stage spills itself: keyed
        stages' keys, embeddings); other engines write the frame to a temporary folder as
        parts and read the outputs back."""
        return (engine or LocalEngine()).apply(self, df, ctx or StageContext(name=self.id))


class RowScorer(Stage):
    """A stage that scores rows one by one and keeps or drops each (shape ``row``).

    A subclass writes :meth:`score` (its score columns on one batch; a pure function of the
    batch and the options, since engines run it in other processes) and :meth:`checks` (the
    drop reasons in order, each an expression over the scores). This class batches, shows
    progress, reuses cached scores, decides, splits kept from rejected and counts failures.

    Where ``cache_scores`` is set, scores are stored under the run's cache keyed by row id and
    a hash of the text they were computed from (:meth:`cache_text`), so that rerunning with
    other thresholds does not score again and a changed text under an old id is scored anew.
    """

    shape = Shape.ROW
    batch_size: ClassVar[int] = 50_000
    cache_scores: ClassVar[bool] = False
    score_columns: ClassVar[tuple[str, ...]] = ()

    def score(self, batch: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """``batch`` with the stage's score columns added."""
        raise NotImplementedError

    def checks(self, columns: list[str]) -> list[tuple[str, pl.Expr]]:
        """``(reason, failed)`` per enabled rule, in check order, over the scored columns."""
        return []

    def check_input(self, df: pl.DataFrame, ctx: StageContext) -> None:
        """Raise a StageError for an input the stage cannot take (before any scoring)."""

    def refine(self, decided: pl.DataFrame, ctx: StageContext
               ) -> tuple[pl.DataFrame, dict[str, int]]:
        """A last decision over the whole decided frame (e.g. quotas over the surviving
        rows): the frame with more drop reasons set, and their failure counts."""
        return decided, {}

    def stats(self, scored: pl.DataFrame, kept: pl.DataFrame,
              ctx: StageContext) -> dict[str, Any]:
        """Extra facts for the manifest, from the scored rows (kept and dropped) and the kept."""
        return {}

    def overrides(self, method: str) -> bool:
        """Whether the stage's class has its own ``method`` (e.g. :meth:`refine`)."""
        return getattr(type(self), method) is not getattr(RowScorer, method)

    def scoring_fingerprint(self) -> str:
        """What the scores depend on; by default the whole option set."""
        return self.fingerprint()

    def cache_text(self) -> pl.Expr:
        """The text the scores are computed from (part of the score cache's key); by default
        every turn of the record, tool calls included."""
        return join_messages(with_call_text(all_turns()))

    def post(self, kept: pl.DataFrame, rejected: pl.DataFrame, ctx: StageContext
             ) -> tuple[pl.DataFrame, pl.DataFrame, int]:
        """One piece's kept and rejected rows as they are written (columns only the decision
        needed dropped, rows split), and the rows it made beyond one per input row."""
        return kept, rejected, 0

    def close(self) -> None:
        """Release what scoring holds (a server connection) once a worker's pieces are done."""

    def finish(self, output: StageOutput, ctx: StageContext, engine: Engine) -> StageOutput:
        """A last step on the driver once every piece is written (e.g. read the texts of a
        few rows named in the stats from ``output``'s parts); by default none."""
        return output

    def run(self, data: StageData, ctx: StageContext, engine: Engine) -> StageOutput:
        return run_rows(self, data, ctx, engine)


class ModelScorer(RowScorer):
    """A :class:`RowScorer` whose :meth:`score` holds a model (shape ``model``): engines keep
    one copy of the stage, and so one model, per worker (Ray: an actor pool with a GPU per
    actor where the cluster has GPUs; :meth:`on_device` gives the worker's copy).

    Workers' copies report what they learned with :meth:`worker_report`; the driver's stage
    takes them in with :meth:`absorb_reports` (counts, the model's description).
    """

    shape = Shape.MODEL

    def on_device(self, device: str | None) -> ModelScorer:
        """A fresh copy of the stage for a worker with ``device`` (None: as configured)."""
        options = self.options
        if device is not None and "device" in type(options).model_fields:
            options = options.model_copy(update={"device": device})
        return type(self)(options)

    def worker_report(self) -> dict[str, Any]:
        """What this copy learned by scoring (JSON-able)."""
        return {}

    def absorb_reports(self, reports: list[dict[str, Any]]) -> None:
        """Take in workers' ``{"before": report, "after": report}`` pairs."""
