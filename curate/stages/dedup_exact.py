"""Exact deduplication on normalised conversation text (stage ``dedup.exact``)."""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Literal

import numpy as np
import polars as pl

from ..columns import DUP_CLUSTER
from ..dedup.reference import build_keyed
from ..io.parts import ROW
from ..messages import MESSAGE_PARTS, Part, join_messages, message_text
from ..text import normalize_expr
from .base import StageContext, StageData, StageOutput, StageResult
from .clusters import cluster_output, write_clusters
from .dedup_against import Against, ReferenceOptions, match_keyed, reference_digests, run_keyed
from .dedup_keep import check_keep, keep_columns
from .keyed import KeyedGrouping, key_columns
from .marks import finish_marks, take

REASON = "duplicate_exact"

_KEY = "__dedup_key"
_H1, _H2 = "__key_hi", "__key_lo"
_FIRST = "__dedup_first"


class ExactDedupOptions(ReferenceOptions):
    """Options of ``dedup.exact``."""

    on: Part = "conversation"
    """Which part of a record is compared: ``prompt`` (the turns before the reply),
    ``response`` (the reply: last SFT turn or the chosen reply), ``conversation`` (SFT messages,
    or prompt + chosen) or ``pair`` (SFT messages, or prompt + chosen + rejected)."""


def dedup_key(on: Part = "conversation") -> pl.Expr:
    """The comparison key of a record: its ``on`` part as normalised text.

    Each turn is ``role`` + ``\\x1f`` + its content (and tool calls, see
    :func:`curate.records.message_text`) normalised with
    :func:`curate.text.normalize_expr` (NFKC, case-folded, white space collapsed and stripped),
    and the turns are joined with ``\\x1e`` as in :func:`curate.records.join_messages`. Roles are
    part of the key, so the same text said by a user and by an assistant is not a duplicate.
    Normalising each turn's content (rather than the joined string) also makes leading and
    trailing white space of a turn irrelevant. The record kind is part of the key too.
    """
    part = MESSAGE_PARTS[on]()
    normalised = part.list.eval(pl.struct(
        pl.element().struct.field("role"),
        normalize_expr(message_text(pl.element()).fill_null("")).alias("content"),
    ))
    # SFT rows and pairs are never duplicates of each other: a pair whose prompt + chosen equals
    # an SFT conversation still carries its rejected reply.
    return pl.col("kind") + "\x1d" + join_messages(normalised)


class ExactDedup(KeyedGrouping):
    """Removes records whose chosen part is the same text after normalisation.

    Copies that differ only in case, Unicode form or white space add nothing to training; one
    of each group stays (the first, or the one ``keep`` picks). How the key is made, ``keep``
    and ``against``: README, "Dedup".

    Input columns:
        - id, kind (str); messages, or prompt, chosen, rejected (list[{role, content}]).
        - <keep> (number): when ``keep`` names a column.

    Output columns:
        - dup_cluster (str | null): the kept record's id on every record of a group of two or
          more; an earlier non-null value is left as it is.
        - drop_reason (``duplicate_exact``), kept_id (str): on rejected records;
          duplicate_of (str): with ``against``.

    Examples:
        Keep one record per distinct prompt:

        ```python
        from curate.stages.dedup_exact import ExactDedup
        from curate.stages.base import StageContext

        stage = ExactDedup({"on": "prompt"})
        result = stage.apply(df, StageContext(name="dedup.exact"))
        result.kept        # first record of each prompt, with dup_cluster
        result.rejected    # the repeats, with drop_reason and kept_id
        ```

        In a recipe:

        ```yaml
        stages:
          - use: dedup.exact
            with: {on: conversation}
        ```
    """

    id = "dedup.exact"
    Options = ExactDedupOptions
    summary = "Drop records whose prompt/response/conversation/pair text is an exact duplicate."
    reason = REASON
    writes = (DUP_CLUSTER,)
    report_section = "dedup"
    command, cli_name, cli_prefix, cli_order = "dedup", "exact", "", 10
    key = (_H1, _H2)
    ref_key = (_H1, _H2)  # the key as the references' sorted keys hold it (hash first)

    options: ExactDedupOptions

    def columns_read(self) -> tuple[str, ...]:
        return keep_columns(self.options.keep)

    def prepare(self, schema: pl.Schema, ctx: StageContext) -> None:
        check_keep(self.options.keep, schema, longest=False)

    def run(self, data: StageData, ctx: StageContext, engine) -> StageOutput:
        return run_keyed(self, data, ctx, engine)

    def resolved(self) -> dict:
        return reference_digests(self)

    def index_params(self) -> dict:
        """What a reference's index depends on (see :mod:`curate.dedup.reference`)."""
        return {"on": self.options.on}

    def build_index(self, tmp, source, ctx: StageContext, engine) -> dict:
        """A reference's keys: its records' key digests, one reference row a key."""
        return build_keyed(tmp, source, engine, sign=partial(_sign, on=self.options.on),
                           columns=self.sign_columns(source.schema), extra={},
                           key=self.ref_key, limit=1, keys_per_row=1,
                           desc=f"{ctx.name} reference")

    def sign_columns(self, schema: pl.Schema) -> list[str]:
        return key_columns(schema, dedup_key(self.options.on))

    def sign(self, batch: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """One keyed row per record with a compared part: ``__row`` and the 128-bit BLAKE2b
        digest of its key as two UInt64 columns (see :func:`key_digests`)."""
        keyed = _sign(batch, on=self.options.on)
        match_keyed(self, keyed)
        return keyed

    def group(self, part: pl.DataFrame) -> pl.DataFrame:
        """The rows of repeated keys, each with the first row (in input order) of its key."""
        key = [_H1, _H2]
        return part.filter(pl.len().over(key) > 1).select(
            ROW, pl.col(ROW).min().over(key).alias(_FIRST))

    def finish(self, data: StageData, grouped: pl.DataFrame, ctx: StageContext,
               engine, against: Against | None = None) -> StageOutput:
        """The first row of each group survives (or the one ``keep`` ranks first); the ids of
        the grouped rows are read, the marks applied in a streaming pass. Rows whose key is a
        reference's are removed as its duplicates (every row of such a group: they share
        the key)."""
        refs = None
        stats: dict = {"on": self.options.on}
        if against is not None:
            refs = against.marks(engine, against.candidates, ctx.name)
            grouped = grouped.filter(~pl.col(ROW).is_in(refs[ROW].implode()))
            stats["against"] = against.stats(refs)
        grouped = grouped.sort(ROW)
        if self.options.keep != "first":
            pairs = grouped.filter(pl.col(ROW) != pl.col(_FIRST)).select(_FIRST, ROW)
            out = cluster_output(self, data, pairs.to_numpy(), ctx, engine, lengths=None,
                                 stats=stats, references=refs)
            out.stats = {**stats, "groups": stats["dup_clusters"]}
            for name in ("pairs", "dup_clusters", "cluster_sizes"):
                out.stats.pop(name, None)
            return out
        rows = grouped[ROW].to_numpy()
        survivor = np.searchsorted(rows, grouped[_FIRST].to_numpy())
        ids = take(engine, data.source, rows, ["id"], desc=f"{ctx.name} ids")["id"]
        total, hist = write_clusters(REASON, data, rows, survivor, ids, ctx, engine,
                                     references=refs)
        stats.update(groups=sum(hist.values()), duplicates=total.dropped.get(REASON, 0))
        return finish_marks(data, total, stats)


def _sign(batch: pl.DataFrame, *, on: Part) -> pl.DataFrame:
    keys = batch.select(ROW, dedup_key(on).alias(_KEY))
    # a null key (missing part) is never a duplicate of anything
    keys = keys.filter(pl.col(_KEY).is_not_null())
    hi, lo = key_digests(keys[_KEY])
    return pl.DataFrame({ROW: keys[ROW], _H1: hi, _H2: lo},
                        schema={ROW: pl.Int64, _H1: pl.UInt64, _H2: pl.UInt64})


def key_digests(keys: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """The 128-bit BLAKE2b digest of each key (UTF-8) as two uint64 arrays.

    Groups are formed on the digest instead of the key, so that a partition holds 24 bytes
    per record instead of its text. Two different keys would merge only if their digests
    collide: among n distinct keys that happens with probability at most n^2 / 2^129, which
    is 1.5e-21 for a billion records (and 1.5e-15 for a trillion), far below the chance of an
    undetected disk or memory error in the same run; a cryptographic hash also makes crafting
    two texts with one digest take about 2^64 hash evaluations, so no input can cause a merge
    on purpose.
    """
    digest = b"".join(hashlib.blake2b(k.encode(), digest_size=16).digest()
                      for k in keys.to_list())
    both = np.frombuffer(digest, dtype=">u8").astype(np.uint64).reshape(-1, 2)
    return both[:, 0], both[:, 1]


def dedup_exact(df: pl.DataFrame, *, on: Part = "conversation", **options) -> StageResult:
    """Library form of the ``dedup.exact`` stage; ``options`` as :class:`ExactDedupOptions`
    (``keep``, ``against``); see :class:`ExactDedup`."""
    return ExactDedup(ExactDedupOptions(on=on, **options)).apply(
        df, StageContext(name=ExactDedup.id))
