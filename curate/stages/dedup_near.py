"""Near-duplicate removal with MinHash LSH on word n-grams (stage ``dedup.near``)."""

from __future__ import annotations

import shutil
from functools import partial
from typing import Any

import numpy as np
import polars as pl
from pydantic import Field

from ..columns import DUP_CLUSTER
from ..dedup.components import resolve_clusters
from ..dedup.lsh import WINDOW, bucket_pairs, optimal_param
from ..dedup.reference import REF_INDEX, REF_ROW, build_keyed
from ..dedup.shingles import shingle_hashes, unique
from ..dedup.verify import Texts, check_pairs, stage_texts
from ..io.parts import ROW
from ..messages import MESSAGE_PARTS, Part, join_contents
from ..text import nfkc
from .base import Stage, StageContext, StageData, StageOutput, StageResult
from .clusters import LENGTH, check_keep, cluster_output
from .dedup_against import Against, ReferenceOptions, match_keyed, reference_digests, run_keyed
from .dedup_keep import keep_columns, then_of
from .keyed import KeyedGrouping, key_columns
from .options import DedupOptions, keep_column

REASON = "duplicate_near"
VERIFY_BATCH = 20_000  # candidate pairs a verify task checks (bounds its memory)
_BAND, _HASH, _TEXT = "__band", "__hash", "__text"
# (false positive, false negative) weights of the banding: with the exact check a false
# positive costs one Jaccard computation, a false negative a missed duplicate.
_WEIGHTS = {True: (0.1, 0.9), False: (0.5, 0.5)}


class NearDedupOptions(DedupOptions):
    """Options of ``dedup.near``."""

    threshold: float = Field(0.8, gt=0.0, lt=1.0)
    """Jaccard similarity of word n-gram sets at which two records are duplicates."""
    num_perm: int = Field(128, ge=2, le=1024)
    """MinHash permutations; bands and rows are derived from it and the threshold."""
    ngram: int = Field(5, ge=1, le=32)
    """Words per shingle."""
    verify: bool = True
    """Check the exact Jaccard of every candidate pair, so that no pair under the threshold
    is merged (``--no-verify`` trusts the LSH candidates)."""
    seed: int = 42
    """Seed of the MinHash permutations."""


def compared_text(on: Part) -> pl.Expr:
    """A record's ``on`` part as one lower-cased string of what its turns say (contents and
    tool calls, see :func:`curate.records.join_contents`); null when the part is missing.

    Roles are left out: they are not content, and as words they would make every record share
    shingles (replies without a word, such as an emoji, would all be the same set). Turns are
    joined by a newline, which is no word character: it adds no shingle of its own, so texts
    without words still have none and are never near duplicates. :func:`nfkc` finishes the
    normalisation of :func:`curate.text.normalize` that matters for words (white space and
    punctuation do not: shingles are made of words, runs of word characters)."""
    return join_contents(MESSAGE_PARTS[on]()).str.to_lowercase()


def kind_salt(df: pl.DataFrame) -> np.ndarray:
    """A uint64 per row that differs between record kinds (SFT rows and pairs never meet)."""
    return df["kind"].fill_null("").hash(seed=7).to_numpy().astype(np.uint64)


def cluster_result(stage: Stage, df: pl.DataFrame, pairs: np.ndarray,
                   lengths: pl.Series | None, stats: dict[str, Any]) -> StageResult:
    """The result of a dedup stage that found duplicate ``pairs`` (k, 2) of row positions:
    pairs joined into clusters, one record of each kept by the stage's ``keep`` option, the
    others removed with the stage's ``reason``; ``lengths`` are the compared texts' lengths
    (for ``keep: longest``)."""
    kept, rejected, hist = resolve_clusters(df, pairs, stage.options.keep, lengths, stage.reason)
    stats.update(pairs=int(pairs.shape[0]), dup_clusters=int(sum(hist.values())),
                 duplicates=rejected.height, cluster_sizes=hist)
    return StageResult(kept, rejected, stats)


class NearDedup(KeyedGrouping):
    """Removes records whose compared text is a near copy of another's (MinHash LSH on word
    n-gram shingles, each candidate pair checked by its exact Jaccard similarity).

    Near copies (a changed word, added punctuation) survive exact dedup and overweight what
    they repeat. How bands are chosen, ``keep`` and ``against``: README, "Dedup".

    Input columns:
        - id, kind (str); messages, or prompt, chosen, rejected (list[{role, content}]).
        - <keep> (number): when ``keep`` names a column.

    Output columns:
        - dup_cluster (str | null): the survivor's id on every record of a cluster of two or
          more; an earlier non-null value is left as it is.
        - drop_reason (``duplicate_near``), kept_id (str): on rejected records;
          duplicate_of (str): with ``against``.

    Examples:
        ```python
        from curate.stages.dedup_near import dedup_near

        result = dedup_near(df, threshold=0.8, on="conversation")
        result.rejected.select("id", "kept_id", "drop_reason")
        ```

        In a recipe:

        ```yaml
        stages:
          - use: dedup.near
            with: {threshold: 0.8, ngram: 5, keep: longest}
        ```
    """

    id = "dedup.near"
    Options = NearDedupOptions
    summary = "Drop near copies (MinHash LSH on word n-grams, exact Jaccard check)."
    reason = REASON
    writes = (DUP_CLUSTER,)
    report_section = "dedup"
    command, cli_name, cli_prefix, cli_order = "dedup", "near", "", 20
    key = (_BAND, _HASH)
    ref_key = (_HASH, _BAND)  # the key as the references' sorted keys hold it (hash first)

    options: NearDedupOptions

    def columns_read(self) -> tuple[str, ...]:
        return keep_columns(self.options.keep)

    def run(self, data: StageData, ctx: StageContext, engine) -> StageOutput:
        return run_keyed(self, data, ctx, engine)

    def resolved(self) -> dict:
        return reference_digests(self)

    def index_params(self) -> dict:
        """What a reference's index depends on (see :mod:`curate.dedup.reference`)."""
        o = self.options
        bands, rows = self.banding()
        return {"on": o.on, "ngram": o.ngram, "seed": o.seed, "bands": bands, "rows": rows}

    def build_index(self, tmp, source, ctx: StageContext, engine) -> dict:
        """A reference's keys: its records' band buckets (the first :data:`WINDOW` reference
        rows of a bucket, as a bucket pairs a row with its next ``WINDOW``), and their
        compared texts for the Jaccard check."""
        return build_keyed(tmp, source, engine, sign=partial(_sign_batch, stage=self),
                           columns=self.sign_columns(source.schema), extra={},
                           blobs={_TEXT: compared_text(self.options.on)},
                           key=self.ref_key, limit=WINDOW,
                           keys_per_row=self.keys_per_row(), desc=f"{ctx.name} reference")

    def banding(self) -> tuple[int, int]:
        o = self.options
        return optimal_param(o.threshold, o.num_perm, *_WEIGHTS[o.verify])

    def prepare(self, schema: pl.Schema, ctx: StageContext) -> None:
        check_keep(self.options.keep, schema)  # a bad keep column fails before the work

    def keys_per_row(self) -> int:
        return self.banding()[0]

    def sign_columns(self, schema: pl.Schema) -> list[str]:
        return key_columns(schema, compared_text(self.options.on), pl.col("kind"))

    def sign(self, batch: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """One keyed row per (record with words, band): ``__row``, ``__band`` and ``__hash``
        (the band's MinHash bucket, salted by the record kind)."""
        from ..dedup.minhash import minhash_bands  # startup

        o = self.options
        bands, rows = self.banding()
        texts = nfkc(batch.select(compared_text(o.on).fill_null("").alias("t"))["t"])
        h, off = shingle_hashes(texts, o.ngram)
        hashes = minhash_bands(h, off, bands=bands, rows=rows, seed=o.seed,
                               salt=kind_salt(batch))
        has = np.diff(off) > 0
        keyed = pl.DataFrame({
            ROW: batch[ROW].to_numpy()[has].repeat(bands),
            _BAND: np.tile(np.arange(bands, dtype=np.int16), int(has.sum())),
            _HASH: hashes[has].reshape(-1),
        }, schema={ROW: pl.Int64, _BAND: pl.Int16, _HASH: pl.UInt64})
        match_keyed(self, keyed)
        return keyed

    def group(self, part: pl.DataFrame) -> pl.DataFrame:
        """Candidate pairs of the part's buckets (see :func:`curate.dedup.lsh.bucket_pairs`),
        one band at a time (a band's rows sorted by bucket: less memory than sorting all).
        The sort is stable and ``part`` lists a bucket's rows in row order, so each bucket's
        rows stay in row order. Each pair once (it may meet in several of the part's bands):
        less to send to the driver."""
        found = [np.zeros((0, 2), np.int64)]
        for band in part[_BAND].unique().sort().to_list():
            t = part.filter(pl.col(_BAND) == band).sort(_HASH, maintain_order=True)
            found.append(bucket_pairs(t[_BAND].to_numpy(), t[_HASH].to_numpy(),
                                      t[ROW].to_numpy()))
        pairs = np.concatenate(found)
        return pl.DataFrame({"i": pairs[:, 0], "j": pairs[:, 1]},
                            schema={"i": pl.Int64, "j": pl.Int64}).unique()

    def finish(self, data: StageData, grouped: pl.DataFrame, ctx: StageContext,
               engine, against: Against | None = None) -> StageOutput:
        """Candidate pairs (each once), checked by exact Jaccard in tasks (see
        :mod:`curate.dedup.verify`: the texts of the rows in a pair never reach the driver,
        only a keep-mask per pair and, for ``keep: longest``, a length per row), joined into
        clusters by :func:`curate.stages.clusters.cluster_output`; candidates of the
        references (``against``) checked the same way against the references' texts."""
        o = self.options
        n = data.source.height
        if grouped.height:
            codes = unique(grouped["i"].to_numpy() * n + grouped["j"].to_numpy())
            pairs = np.stack([codes // n, codes % n], axis=1)
        else:
            pairs = np.zeros((0, 2), np.int64)
        candidates = int(pairs.shape[0])
        refs = against.candidates if against is not None else None
        lengths = pl.DataFrame(schema={ROW: pl.Int64, LENGTH: pl.UInt32})
        longest = then_of(o.keep) == "longest"
        if (o.verify or longest) and (candidates or refs is not None and refs.height):
            mine = [pairs.reshape(-1)] + ([refs[ROW].to_numpy()] if refs is not None else [])
            rows = unique(np.concatenate(mine))
            folder = data.scratch / "verify"
            try:
                texts, sizes = stage_texts(engine, data.source, rows, compared_text(o.on),
                                           folder, lengths=longest,
                                           desc=f"{ctx.name} verify: texts")
                if o.verify:
                    at = np.searchsorted(rows, pairs)
                    pairs = pairs[check_pairs(engine, texts, at[:, 0], texts, at[:, 1],
                                              ngram=o.ngram, threshold=o.threshold,
                                              batch=VERIFY_BATCH, desc=f"{ctx.name} verify")]
                    if refs is not None and refs.height:
                        refs = _verify_references(engine, against, refs, texts, rows, o, ctx)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            if longest:  # only rows in a pair are ranked: the others' length is moot
                lengths = pl.DataFrame({ROW: rows, LENGTH: sizes},
                                       schema={ROW: pl.Int64, LENGTH: pl.UInt32})
        bands, rows_per_band = self.banding()
        stats = {"on": o.on, "bands": bands, "rows": rows_per_band, "candidates": candidates}
        marks = None
        if against is not None:
            marks = against.marks(engine, refs, ctx.name)
            stats.update(against=against.stats(marks),
                         reference_candidates=int(against.candidates.height))
        return cluster_output(self, data, pairs, ctx, engine, lengths=lengths, stats=stats,
                              references=marks)


def _sign_batch(batch: pl.DataFrame, *, stage: NearDedup) -> pl.DataFrame:
    return stage.sign(batch, StageContext(name=stage.id))


def _verify_references(engine, against: Against, refs: pl.DataFrame, texts: Texts,
                       rows: np.ndarray, o: NearDedupOptions, ctx: StageContext) -> pl.DataFrame:
    """The reference candidates (``__row``, ``__refidx``, ``__ref``) whose Jaccard with the
    reference record reaches the threshold, checked in tasks; ``texts``: the new rows' texts
    at ``rows``, the reference texts read from each index's blobs by the tasks."""
    kept = [refs.clear()]
    for k, index in enumerate(against.indexes):
        mine = refs.filter(pl.col(REF_INDEX) == k)
        if not mine.height:
            continue
        ref_texts = Texts(str(index.folder / "blobs" / _TEXT),
                          tuple(int(s) for s in index.meta["pieces"]))
        ok = check_pairs(engine, texts, np.searchsorted(rows, mine[ROW].to_numpy()),
                         ref_texts, mine[REF_ROW].to_numpy(), ngram=o.ngram,
                         threshold=o.threshold, batch=VERIFY_BATCH,
                         desc=f"{ctx.name} verify: {index.name}")
        kept.append(mine.filter(pl.Series(ok)))
    return pl.concat(kept)


def dedup_near(df: pl.DataFrame, **options) -> StageResult:
    """Library form of the ``dedup.near`` stage; ``options`` as :class:`NearDedupOptions`."""
    return NearDedup(NearDedupOptions(**options)).apply(df, StageContext(name=NearDedup.id))
