"""Per-input accounting of a run with named inputs (``inputs:``).

After each step the runner calls :func:`count_step`: it reads only the ``dataset`` column of
the step's checkpoint (and ``tokens`` where there is one) and the ``dataset`` and
``drop_reason`` columns of its rejected rows, grouped in a streaming scan, so memory stays
flat whatever the size of the data and whichever engine ran the step. The stage's manifest
entry gets

    "datasets": {"ours": {"rows_in": 10, "rows_out": 8, "dropped": {"duplicate_exact": 2},
                          "tokens": 1234, "added": 0}, ...}

``rows_in`` of an input is its ``rows_out`` of the step before (the convert step: the rows
read of its files); every input keeps the invariant ``rows_in + added == rows_out +
sum(dropped)`` and the inputs add up to the stage's counts (an AccountingError otherwise).
``added`` is there only for a stage that makes rows (the copies of ``mix`` with ``repeat``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from .columns import DROP_REASON
from .convert.dataset import DATASET
from .convert.inputs import Source, convert_inputs
from .errors import AccountingError
from .funnel import DATASETS, TOKENS
from .io import input_files
from .io.parts import Parts
from .io.remote import is_url, redact
from .manifest import describe_inputs

NO_INPUT = "(none)"  # rows without a dataset (made by a stage from nothing of an input)


def describe_sources(recipe, recipe_file: Path | None) -> list[dict[str, Any]]:
    """The manifest's ``inputs``: each file with size and sha256, and with named inputs the
    input's ``dataset`` name and ``license``."""
    from .recipe_files import resolve_inputs  # startup

    out: list[dict[str, Any]] = []
    for name, spec, path in resolve_inputs(recipe, recipe_file):
        files = describe_inputs(input_files(path))
        if name is not None:
            lic = getattr(spec, "license", None)
            files = [{"dataset": name, **f, **({"license": lic} if lic else {})}
                     for f in files]
        out += files
    return out


def redact_recipe(recipe: dict[str, Any]) -> None:
    """Input URLs in a dumped recipe without credentials (in place)."""
    specs = [recipe["input"]] if recipe.get("input") else list(recipe.get("inputs") or [])
    for spec in specs:
        if is_url(spec["path"]):
            spec["path"] = redact(spec["path"])


def convert_named(recipe, recipe_file, kept_dir: Path, rejected_dir: Path, *, engine,
                  limit: int | None, scratch: Path):
    """The convert step of a recipe with ``inputs:``."""
    from .recipe_files import resolve_inputs  # startup

    sources = [Source(name, path, spec.format, spec.kind, spec.columns, spec.encoding,
                      spec.license) for name, spec, path in resolve_inputs(recipe, recipe_file)]
    return convert_inputs(sources, kept_dir, rejected_dir, engine=engine,
                          on_error=recipe.on_error, limit=limit, scratch=scratch)


def _by_dataset(path: Path, *, keys: list[str],
                tokens: bool = False) -> pl.DataFrame:
    """Rows (and tokens) per ``keys`` of the part folder at ``path``, read column-wise."""
    if not path.exists():
        return pl.DataFrame()
    parts = Parts(path)
    schema = parts.schema
    if parts.height == 0:
        return pl.DataFrame()
    exprs = [(pl.col(k).cast(pl.String) if k in schema else pl.lit(None, pl.String)).alias(k)
             for k in keys]
    aggs = [pl.len().alias("rows")]
    if tokens and TOKENS in schema:
        aggs.append(pl.col(TOKENS).cast(pl.Int64).sum().alias(TOKENS))
    scan = parts.scan().select([c for c in (*keys, TOKENS) if c in schema]
                               or [pl.first()]).with_columns(exprs)
    df = scan.group_by(keys).agg(aggs).collect(engine="streaming")
    return df.with_columns(pl.col(DATASET).fill_null(NO_INPUT))


def count_step(out: Path, stages: list[dict[str, Any]], entry: dict[str, Any],
               names: list[str]) -> None:
    """Put the per-input counts of the step ``entry`` (just run) in it, the inputs in the
    order of ``names`` (the recipe's); see the module doc."""
    kept = _by_dataset(out / entry["checkpoint"], keys=[DATASET], tokens=True)
    rejected = _by_dataset(out / entry["rejected"], keys=[DATASET, DROP_REASON])
    counts: dict[str, dict[str, Any]] = {}
    for row in kept.iter_rows(named=True):
        item = counts.setdefault(row[DATASET], {"rows_out": 0, "dropped": {}})
        item["rows_out"] = row["rows"]
        if row.get(TOKENS) is not None:
            item[TOKENS] = row[TOKENS]
    for row in rejected.iter_rows(named=True):
        item = counts.setdefault(row[DATASET], {"rows_out": 0, "dropped": {}})
        item["dropped"][row[DROP_REASON]] = row["rows"]
    before = _previous(stages, entry)
    for name in [*names, *before]:
        counts.setdefault(name, {"rows_out": 0, "dropped": {}})
    datasets: dict[str, dict[str, Any]] = {}
    order = list(dict.fromkeys([*names, *before]))
    for name in sorted(counts, key=lambda n: (order.index(n) if n in order else len(order),
                                              n)):
        item = counts[name]
        dropped = dict(sorted(item["dropped"].items()))
        made = item["rows_out"] + sum(dropped.values())
        rows_in = before[name] if before is not None and name in before else (
            made if entry["index"] == 0 else 0)
        out_item = {"rows_in": rows_in, "rows_out": item["rows_out"], "dropped": dropped}
        if made != rows_in:
            out_item["added"] = made - rows_in
        if TOKENS in item:
            out_item[TOKENS] = item[TOKENS]
        datasets[name] = out_item
    check_datasets(entry, datasets)
    entry[DATASETS] = datasets


def _previous(stages: list[dict[str, Any]], entry: dict[str, Any]) -> dict[str, int] | None:
    """rows_out per input of the step before ``entry`` (None for the convert step)."""
    if entry["index"] == 0:
        return {}
    for s in stages:
        if s.get("index") == entry["index"] - 1 and DATASETS in s:
            return {k: v["rows_out"] for k, v in s[DATASETS].items()}
    return {}


def check_datasets(entry: dict[str, Any], datasets: dict[str, dict[str, Any]]) -> None:
    """The inputs add up to the stage's counts, and no input gains rows unless the stage
    says it made some (``added``)."""
    name = entry["name"]
    added = sum(d.get("added", 0) for d in datasets.values())
    rows_out = sum(d["rows_out"] for d in datasets.values())
    dropped: dict[str, int] = {}
    for d in datasets.values():
        for reason, n in d["dropped"].items():
            dropped[reason] = dropped.get(reason, 0) + n
    problems = []
    if rows_out != entry["rows_out"]:
        problems.append(f"the inputs' rows_out add up to {rows_out}, not {entry['rows_out']}")
    if dropped != {k: v for k, v in (entry.get("dropped") or {}).items() if v}:
        problems.append(f"the inputs' dropped add up to {dropped}, not {entry.get('dropped')}")
    if entry["index"] > 0:
        rows_in = sum(d["rows_in"] for d in datasets.values())
        if rows_in != entry["rows_in"]:
            problems.append(f"the inputs' rows_in add up to {rows_in}, not {entry['rows_in']}")
        if added != entry.get("added", 0):
            lost = [k for k, d in datasets.items() if d.get("added", 0) < 0]
            problems.append(f"rows of {', '.join(lost) or 'an input'} were lost or invented "
                            f"({added} made, the stage says {entry.get('added', 0)})")
    if problems:
        raise AccountingError(f"stage {name}: per-input accounting: {'; '.join(problems)}")
