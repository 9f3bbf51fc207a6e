"""Push curate records to an Argilla dataset for human labeling.

Records are upserted by ``external_id`` = curate's ``id``, in batches, so pushing the same records
again (or re-running a push that was interrupted half way) updates them instead of duplicating
them. For preference records, which reply is shown as A is drawn per record from a hash of the
seed and the id (so a re-push keeps the order annotators saw) and recorded in the hidden metadata
``a_is``. The whole curate record rides along in the extra metadata ``curate_record`` so that a
pull rebuilds it without the input file.

Input columns:
    - id, kind, messages | prompt/chosen/rejected, source, meta (the record contract)
    - optional: toxicity, quality_score, chosen_score, rejected_score (suggestions); numeric
      score columns, source, lang (metadata); embedding (vector)

Examples:
    >>> push_records(client, frame, dataset="review", task="sft-review", annotators=2)  # doctest: +SKIP
    {'dataset': 'review', 'task': 'sft-review', 'records': 120, 'batches': 1, ...}
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Iterator, Protocol

import polars as pl

from ..errors import CurateError
from ..io.parts import Parts
from ..progress import bar
from ..record_schema import RECORD_COLUMNS
from ..records import content_hash, turn_text
from .client import ArgillaClient
from .settings import (KIND_OF_TASK, TASK_OF_KIND, DatasetSettings, ensure_dataset,
                       metadata_columns, suggestion_values, task_settings)

BATCH = 200
RECORD_KEY = "curate_record"


def _text(messages: list[dict] | None) -> str:
    return "\n\n".join(turn_text(m) for m in messages or [])


def _chat(messages: list[dict]) -> list[dict]:
    """Turns for Argilla's chat field: role and text (a tool call shown as its text)."""
    return [{"role": m["role"], "content": turn_text(m)} for m in messages]


def a_is_for(record_id: str, seed: int) -> str:
    """Which reply of a pair is shown as A: ``chosen`` or ``rejected``, stable per id and seed."""
    return "chosen" if int(content_hash("ab-order", seed, record_id), 16) % 2 == 0 else "rejected"


def _fields(task: str, row: dict[str, Any], a_is: str | None) -> dict[str, Any]:
    if task == "sft-review":
        msgs = row["messages"]
        return {"prompt": _chat(msgs[:-1]), "response": turn_text(msgs[-1])}
    b_is = "rejected" if a_is == "chosen" else "chosen"
    return {"prompt": _chat(row["prompt"]), "response_a": _text(row[a_is]),
            "response_b": _text(row[b_is])}


def _metadata(row: dict[str, Any], meta_cols: dict[str, str], a_is: str | None,
              record_columns: tuple[str, ...] = ()) -> dict:
    out: dict[str, Any] = {}
    for name, kind in meta_cols.items():
        v = row.get(name)
        if v is None or (kind == "float" and isinstance(v, float) and not math.isfinite(v)):
            continue
        out[name] = str(v) if kind == "terms" else float(v)
    if a_is is not None:
        out["a_is"] = a_is
    core = {c: row.get(c) for c in (*RECORD_COLUMNS, *record_columns)}
    out[RECORD_KEY] = json.dumps(core, ensure_ascii=False, default=str)
    return out


class ItemExtension(Protocol):
    """What a kind of push adds to the task's dataset and items (see :mod:`.judged`)."""

    fields: list[dict]  # extra fields of the dataset
    metadata: list[dict]  # extra metadata properties
    dataset_metadata: dict[str, Any]  # stored on the dataset when it is created
    record_columns: tuple[str, ...]  # frame columns stored with the curate record
    guidelines: str | None

    def extend(self, item: dict, row: dict[str, Any], a_is: str | None,
               question_ids: dict[str, str]) -> None:
        """Change ``item`` (fields, metadata, suggestions) in place."""


def build_items(frame: pl.DataFrame, settings: DatasetSettings, question_ids: dict[str, str],
                *, seed: int = 0, extension: ItemExtension | None = None) -> list[dict]:
    """The Argilla record payloads of ``frame`` (fields, metadata, vectors, suggestions)."""
    meta_cols = metadata_columns(frame)
    has_vectors = bool(settings.vectors)
    record_columns = extension.record_columns if extension is not None else ()
    items = []
    for row in frame.iter_rows(named=True):
        a_is = a_is_for(row["id"], seed) if settings.task == "preference" else None
        item: dict[str, Any] = {"external_id": row["id"],
                                "fields": _fields(settings.task, row, a_is),
                                "metadata": _metadata(row, meta_cols, a_is, record_columns)}
        if has_vectors and row.get("embedding") is not None:
            item["vectors"] = {"embedding": [float(x) for x in row["embedding"]]}
        suggestions = [{"question_id": question_ids[q], "value": value, "score": float(score),
                        "agent": "curate", "type": "model"}
                       for q, (value, score) in suggestion_values(settings.task, row, a_is).items()
                       if q in question_ids]
        if suggestions:
            item["suggestions"] = suggestions
        if extension is not None:
            extension.extend(item, row, a_is, question_ids)
        items.append(item)
    return items


def check_frame(frame: pl.DataFrame | pl.LazyFrame, task: str | None) -> str:
    """The task for ``frame``'s records (given, or from their kind); raises on a mismatch.
    Read as aggregates (kinds, counts), so a LazyFrame over a run's parts is not loaded."""
    lf = frame.lazy()
    kinds = lf.select(pl.col("kind").unique()).collect(engine="streaming")["kind"].to_list()
    if task is None:
        if len(kinds) != 1:
            raise CurateError(f"the input holds records of kinds {sorted(kinds)}; choose one "
                              f"with --task sft-review or --task preference")
        task = TASK_OF_KIND[kinds[0]]
    want = KIND_OF_TASK.get(task)
    if want is None:
        raise CurateError(f"unknown labeling task {task!r}; expected sft-review or preference")
    wrong, dup = lf.select((pl.col("kind") != want).sum(),
                           pl.len() - pl.col("id").n_unique()).collect(engine="streaming").row(0)
    if wrong:
        raise CurateError(f"task {task} labels {want} records, but {wrong} input records are of "
                          f"another kind")
    if dup:
        raise CurateError(f"{dup} input records repeat an id; ids must be unique to push")
    return task


def _probe(lf: pl.LazyFrame) -> pl.DataFrame:
    """No rows but the schema, and a first row with an embedding where there is one: what the
    dataset settings are made from."""
    head = lf.head(0).collect()
    if "embedding" not in head.columns:
        return head
    return pl.concat([head, lf.filter(pl.col("embedding").is_not_null()).head(1)
                      .collect(engine="streaming")])


def _batches(data: pl.DataFrame | Parts) -> Iterator[pl.DataFrame]:
    if isinstance(data, pl.DataFrame):
        yield data
    else:
        yield from data.iter_batches()


def push_records(client: ArgillaClient, frame: pl.DataFrame | Parts, *, dataset: str,
                 task: str | None = None, annotators: int = 1, workspace: str | None = None,
                 seed: int = 0, batch_size: int = BATCH, guidelines: str | None = None,
                 on_batch: Callable[[int, int], None] | None = None,
                 extension: ItemExtension | None = None) -> dict[str, Any]:
    """Create the dataset if needed and upsert ``frame``'s records in batches; ``frame`` may
    be a run's data in storage (:class:`~curate.io.parts.Parts`), read piece by piece.

    ``on_batch(done, total)`` is called after each batch. Returns a summary for the manifest.
    """
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame.scan()
    total = frame.height
    task = check_frame(lf, task)
    settings = task_settings(task, _probe(lf), annotators=annotators, guidelines=guidelines)
    if extension is not None:
        settings.fields = [*settings.fields, *extension.fields]
        settings.metadata = [*settings.metadata, *extension.metadata]
        settings.dataset_metadata = {**settings.dataset_metadata, **extension.dataset_metadata}
        settings.guidelines = guidelines or extension.guidelines or settings.guidelines
    ds = ensure_dataset(client, dataset, settings, workspace=workspace)
    question_ids = {q["name"]: q["id"] for q in client.questions(ds["id"])}
    batches = done = 0
    with bar(total=total, desc=f"push {dataset}") as progress:
        for piece in _batches(frame):
            for start in range(0, piece.height, batch_size):
                chunk = build_items(piece.slice(start, batch_size), settings, question_ids,
                                    seed=seed, extension=extension)
                client.upsert_records(ds["id"], chunk)
                batches += 1
                done += len(chunk)
                progress.update(len(chunk))
                if on_batch is not None:
                    on_batch(done, total)
    return {"dataset": dataset, "dataset_id": ds["id"], "task": task, "records": done,
            "batches": batches, "annotators": annotators, "seed": seed,
            "metadata": [m["name"] for m in settings.metadata],
            "vectors": [v["name"] for v in settings.vectors]}
