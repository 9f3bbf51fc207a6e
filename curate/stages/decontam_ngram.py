"""Benchmark decontamination by word n-grams (stage ``decontam.ngram``)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl
from pydantic import Field

from ..decontam.stats import BY, NGRAM, PARTS, REASON, contamination_stats
from ..errors import StageError
from .base import RowScorer, StageContext, StageResult
from .options import BenchmarkOptions

# The index pulls in numba, the turns pyarrow: imported when a run needs them, not when the
# CLI lists the stages or builds a command's flags.
if TYPE_CHECKING:  # pragma: no cover
    from ..decontam.index import NgramIndex

_BUILT: dict[str, NgramIndex] = {}  # indexes built in this process, by options (see __init__)


class NgramOptions(BenchmarkOptions):
    """Options of ``decontam.ngram``."""

    ngram: int = Field(13, ge=8, le=13)
    """Words per n-gram: a record that shares this many consecutive words with a benchmark
    text is contaminated."""
    min_words: int = Field(5, ge=2, le=13)
    """Benchmark texts shorter than ``ngram`` words are found whole inside a turn from this
    many words up. Shorter ones count only when a whole turn is that text (a few words inside
    a longer text, such as "write test", say nothing); one-word texts never count."""


class NgramDecontam(RowScorer):
    """Finds records that contain benchmark items, by shared word n-grams.

    Every turn (prompt, reply, chosen and rejected) is searched, normalised as near dedup
    normalises it, in an index of the benchmarks' ``ngram``-word windows
    (:mod:`curate.decontam.index`, cached by the files' sha256); shorter benchmark texts count
    whole from ``min_words`` words. Hash hits are checked word by word, so a collision never
    counts. README: "Decontamination".

    Input columns:
        - kind, messages / prompt, chosen, rejected: the record turns.

    Output columns:
        - contaminated_by (list[str] | null): the benchmarks matched.
        - contaminated_ngram (str | null): the first matched words (normalised).
        - contaminated_parts (list[str] | null): prompt, response, chosen, rejected.
        - drop_reason (str): ``contaminated`` on rejected records (``action: drop``).

        An earlier non-null value (a record marked by an earlier stage) is left as it is.

    Stats:
        ``mode`` (ngram), ``ngram``, ``min_words``, ``benchmarks`` (per benchmark: path,
        sha256, fields, rows, texts, ngrams, short_texts, whole_turn_texts, too_short),
        ``index_bytes``,
        ``contaminated``, ``by_benchmark``, ``by_part``, ``removed`` or ``marked``.

    Examples:
        ```python
        from curate.stages.decontam_ngram import decontam_ngram

        result = decontam_ngram(df, benchmarks={"alpaca_eval": "eval.json"})
        result.rejected.select("id", "contaminated_by", "contaminated_ngram")
        ```

        In a recipe (``curate filter --decontam alpaca_eval=eval.json``):

        ```yaml
        stages:
          - use: decontam.ngram
            with: {benchmarks: {alpaca_eval: eval.json}, ngram: 13, action: drop}
        ```
    """

    id = "decontam.ngram"
    Options = NgramOptions
    summary = "Drop records that contain benchmark items (word n-gram overlap)."
    writes = (BY, NGRAM, PARTS)
    report_section = "decontam"
    command, cli_name, cli_switch, cli_order = "filter", "decontam", "benchmarks", 60
    cli_names = {"fields": "decontam-field"}
    batch_size: ClassVar[int] = 20_000

    options: NgramOptions

    def __init__(self, options=None):
        super().__init__(options)
        # Engines hand workers a fresh copy made from the options: the index built on the
        # driver (check_input) rides along with that copy instead of being rebuilt per worker.
        self._index: NgramIndex | None = _BUILT.get(self._options_key())

    def _options_key(self) -> str:
        o = self.options
        return json.dumps([o.benchmarks, o.fields, o.ngram, o.min_words], sort_keys=True)

    def resolved(self) -> dict[str, Any]:
        from ..decontam.benchmarks import benchmark_digest  # startup

        return {"sha256": {n: benchmark_digest(p) for n, p in self.options.benchmarks.items()}}

    def index(self, ctx: StageContext) -> NgramIndex:
        """The benchmarks' index: this process's, the run cache's, or built from the files."""
        from ..decontam.benchmarks import load_benchmarks  # startup
        from ..decontam.index import NgramIndex, build_index  # startup

        o = self.options
        key = hashlib.sha1(json.dumps([self._options_key(), self.resolved()]).encode())
        path = (ctx.cache_dir / "decontam" / f"ngram-{key.hexdigest()[:16]}.npz"
                if ctx.cache_dir is not None else None)
        index = NgramIndex.load(path) if path is not None and path.is_file() else None
        if index is None:
            benches = load_benchmarks(o.benchmarks, o.fields)
            index = build_index([b.name for b in benches], [b.texts for b in benches],
                                ngram=o.ngram, min_words=o.min_words)
            for b in benches:
                index.counts[b.name] = {**b.describe(), **index.counts[b.name]}
            if path is not None:
                index.save(path)
        while len(_BUILT) >= 4:
            _BUILT.pop(next(iter(_BUILT)))
        _BUILT[self._options_key()] = index
        return index

    def check_input(self, df: pl.DataFrame, ctx: StageContext) -> None:
        if not self.options.benchmarks:
            raise StageError(f"{self.id}: no benchmark given (--decontam NAME=PATH, or "
                             f"benchmarks: {{NAME: PATH}} in a recipe)")
        self._index = self.index(ctx)

    def score(self, batch: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        import pyarrow as pa  # startup

        from ..decontam.turns import RECORD_PARTS, SKIP, part_columns  # startup

        if self._index is None:  # a copy made where the driver's index is not
            self._index = self.index(ctx)
        index = self._index
        # (row, part, turn) of every hit, so each row's first hit comes first: its prompt turns
        # in order, then its response, chosen and rejected turns
        found = sorted((int(col.rows[t]), int(col.part[t]), c, t, hit)
                      for c, col in enumerate(part_columns(batch))
                      for t, hit in index.find(col.texts).items() if col.part[t] != SKIP)
        by: dict[int, list[str]] = {}
        span: dict[int, str] = {}
        parts: dict[int, list[str]] = {}
        for row, part, _, _, hit in found:
            matched, name = index.names_of(hit.mask), RECORD_PARTS[part]
            if row not in by:
                by[row], span[row], parts[row] = matched, hit.span, [name]
                continue
            by[row] = [n for n in index.names if n in matched or n in by[row]]
            if name not in parts[row]:
                parts[row].append(name)
        # the few hit rows as a frame, joined on: no Python list as long as the batch
        # (built by Arrow: polars makes a Series of each inner Python list)
        names = pa.large_list(pa.large_string())
        hits = pl.from_arrow(pa.table({
            "__row": pa.array(list(by), pa.int64()), BY: pa.array(list(by.values()), names),
            NGRAM: pa.array([span[r] for r in by], pa.large_string()),
            PARTS: pa.array([parts[r] for r in by], names)}))
        new = (pl.DataFrame({"__row": pl.int_range(batch.height, dtype=pl.Int64, eager=True)})
               .join(hits, on="__row", how="left", maintain_order="left").drop("__row"))
        return batch.with_columns(
            pl.coalesce(pl.col(c), new[c]) if c in batch.columns else new[c]
            for c in new.columns)

    def checks(self, columns: list[str]) -> list[tuple[str, pl.Expr]]:
        return [(REASON, pl.col(BY).is_not_null())] if self.options.action == "drop" else []

    def stats(self, scored: pl.DataFrame, kept: pl.DataFrame,
              ctx: StageContext) -> dict[str, Any]:
        index = self._index or self.index(ctx)
        return {"mode": "ngram", "ngram": index.ngram, "min_words": index.min_words,
                "benchmarks": index.counts, "index_bytes": index.nbytes(),
                **contamination_stats(scored, index.names, self.options.action)}


def decontam_ngram(df: pl.DataFrame, **options) -> StageResult:
    """Library form of ``decontam.ngram``; ``options`` as :class:`NgramOptions`."""
    return NgramDecontam(NgramOptions(**options)).apply(df, StageContext(name=NgramDecontam.id))
