"""Exact deduplication on normalised conversation text (stage ``dedup.exact``)."""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

from ..columns import DUP_CLUSTER
from ..io.parts import ROW
from ..records import MESSAGE_PARTS, Part, join_messages, message_text
from ..text import normalize_expr
from .base import StageContext, StageData, StageOptions, StageOutput, StageResult
from .keyed import KeyedGrouping, key_columns

REASON = "duplicate_exact"

_KEY = "__dedup_key"
_H1, _H2 = "__key_hi", "__key_lo"
_FIRST = "__dedup_first"


class ExactDedupOptions(StageOptions):
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

    The key of a record is its ``on`` part (``prompt``, ``response``, ``conversation`` or
    ``pair``, see :data:`curate.records.MESSAGE_PARTS`), turn by turn, as ``role`` plus content
    normalised by NFKC, case folding and white-space collapsing. Records with equal keys form a
    group: the first record of the group (in input order) is kept, the others are removed with
    ``drop_reason = "duplicate_exact"`` and ``kept_id`` = the kept record's ``id``.
    SFT and preference records are compared in the same key space: an SFT conversation equals a
    pair's prompt + chosen under ``on="conversation"``. Records whose part is null are never
    duplicates.

    Input columns:
        - id (str): the record id.
        - kind (str): ``sft`` or ``preference``.
        - messages (list[{role, content}]): for SFT records.
        - prompt, chosen, rejected (list[{role, content}]): for preference records.

    Output columns:
        - dup_cluster (str | null): on kept records that had duplicates, their own ``id``
          (the cluster id); null on kept records without duplicates. Rejected records carry
          the cluster id too. A non-null ``dup_cluster`` already present in the input (from an
          earlier dedup stage) is left as it is.
        - drop_reason (str), kept_id (str): on rejected records only.

    Stats:
        ``{"on": ..., "groups": <duplicate groups>, "duplicates": <records removed>}``.

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
    writes = (DUP_CLUSTER,)
    report_section = "dedup"
    command, cli_name, cli_prefix, cli_order = "dedup", "exact", "", 10
    key = (_H1, _H2)

    options: ExactDedupOptions

    def sign_columns(self, schema: pl.Schema) -> list[str]:
        return key_columns(schema, dedup_key(self.options.on))

    def sign(self, batch: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """One keyed row per record with a compared part: ``__row`` and the 128-bit BLAKE2b
        digest of its key as two UInt64 columns (see :func:`key_digests`)."""
        keys = batch.select(ROW, dedup_key(self.options.on).alias(_KEY))
        # a null key (missing part) is never a duplicate of anything
        keys = keys.filter(pl.col(_KEY).is_not_null())
        hi, lo = key_digests(keys[_KEY])
        return pl.DataFrame({ROW: keys[ROW], _H1: hi, _H2: lo},
                            schema={ROW: pl.Int64, _H1: pl.UInt64, _H2: pl.UInt64})

    def group(self, part: pl.DataFrame) -> pl.DataFrame:
        """The rows of repeated keys, each with the first row (in input order) of its key."""
        key = [_H1, _H2]
        return part.filter(pl.len().over(key) > 1).select(
            ROW, pl.col(ROW).min().over(key).alias(_FIRST))

    def finish(self, data: StageData, grouped: pl.DataFrame, ctx: StageContext,
               engine) -> StageOutput:
        """The first row of each group survives; the ids of the grouped rows are read, the
        marks applied in a streaming pass."""
        from .clusters import write_clusters
        from .marks import finish_marks, take

        grouped = grouped.sort(ROW)
        rows = grouped[ROW].to_numpy()
        survivor = np.searchsorted(rows, grouped[_FIRST].to_numpy())
        ids = take(engine, data.source, rows, ["id"], desc=f"{ctx.name} ids")["id"]
        total, hist = write_clusters(REASON, data, rows, survivor, ids, ctx, engine)
        return finish_marks(data, total, {"on": self.options.on, "groups": sum(hist.values()),
                                          "duplicates": total.dropped.get(REASON, 0)})


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


def dedup_exact(df: pl.DataFrame, *, on: Part = "conversation") -> StageResult:
    """Library form of the ``dedup.exact`` stage; see :class:`ExactDedup`."""
    return ExactDedup(ExactDedupOptions(on=on)).apply(df, StageContext(name=ExactDedup.id))
