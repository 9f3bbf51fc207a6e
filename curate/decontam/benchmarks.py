"""Benchmark files to texts: any format curate reads (JSON Lines, JSON, parquet, CSV, a saved HF
dataset, a folder of them), the text fields named or detected.

Detection looks for the usual names of a benchmark item's prompt (``question``, ``prompt``,
``instruction``, ``input``, ``query``, ``problem``) and of its reference answer (``answer``,
``output``, ``solution``, ``response``, ``completion``, ``target``): every one present is a
text field. Each string value of a text field is one benchmark text; other values (numbers,
lists, nulls) are not text and are skipped.

Examples:
    ```python
    bench = load_benchmark("alpaca_eval", "eval.json", fields=["instruction"])
    bench.texts[:2], bench.prompts[:2], bench.sha256
    ```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import polars as pl

from ..errors import CurateError, StageError
from ..io import iter_rows
from ..manifest import path_sha256

# what polars writes for a JSON number or boolean in a column of strings (json.loads keeps it
# a number, which is not a benchmark text)
_SCALAR_AS_TEXT = r"^(-?[0-9][0-9.eE+-]*|true|false)$"
PROMPT_FIELDS = ("question", "prompt", "instruction", "input", "query", "problem")
ANSWER_FIELDS = ("answer", "output", "solution", "response", "completion", "target")


@dataclass
class Benchmark:
    """One benchmark's texts: ``texts`` (every text field's values) and ``prompts`` (those of
    its prompt fields, for semantic matching)."""

    name: str
    path: str
    sha256: str
    fields: list[str]
    rows: int
    texts: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)

    def describe(self) -> dict:
        """What the manifest says about it."""
        return {"path": self.path, "sha256": self.sha256, "fields": self.fields,
                "rows": self.rows, "texts": len(self.texts)}


def benchmark_digest(path: str) -> str:
    """sha256 of a benchmark file or folder (memoised by path, size and modification time)."""
    p = Path(path)
    if not p.exists():
        raise StageError(f"benchmark file not found: {path}")
    stamp = [(str(f), f.stat().st_size, f.stat().st_mtime_ns)
             for f in ([p] if p.is_file() else sorted(x for x in p.rglob("*") if x.is_file()))]
    return _digest(str(p), tuple(stamp))


@lru_cache(maxsize=64)
def _digest(path: str, stamp: tuple) -> str:
    return path_sha256(Path(path))[0]


def _rows(name: str, path: str) -> list[dict]:
    rows = []
    try:
        for raw in iter_rows(path):
            if raw.error is not None:
                raise StageError(f"benchmark {name}: {raw.file}:{raw.line}: {raw.error.message}")
            rows.append(raw.data)
    except StageError:
        raise
    except CurateError as exc:
        raise StageError(f"benchmark {name}: {exc}") from None
    return rows


def text_fields(name: str, path: str, present: set[str], wanted: Iterable[str] | None
                ) -> list[str]:
    """The fields read as text: ``wanted`` (each must occur in the file: be one of the
    ``present`` fields), else the detected prompt and answer fields."""
    if wanted:
        missing = [f for f in wanted if f not in present]
        if missing:
            raise StageError(f"benchmark {name} ({path}): no field {', '.join(missing)}; its "
                             f"fields: {', '.join(sorted(present)) or 'none'}")
        return list(wanted)
    found = [f for f in PROMPT_FIELDS + ANSWER_FIELDS if f in present]
    if not found:
        raise StageError(
            f"benchmark {name} ({path}): no text field found (looked for "
            f"{', '.join(PROMPT_FIELDS + ANSWER_FIELDS)}); its fields: "
            f"{', '.join(sorted(present)) or 'none'}; name them with fields "
            f"(--decontam-field)")
    return found


def _json_frame(path: str) -> pl.DataFrame | None:
    """A local ``.json``/``.json.gz`` file of two or more objects in an array, read by polars;
    None for any other file (a single object may be a wrapper of rows: the row reader decides),
    or one polars cannot read (bad JSON or UTF-8, an element that is not an object, a field
    with objects beside strings: the row reader says where). One difference is left: an object
    that repeats a key gives its first value here, its last through ``json.loads``."""
    p = Path(path)
    if not (p.name.lower().endswith((".json", ".json.gz")) and p.is_file()):
        return None
    try:
        frame = pl.read_json(p, infer_schema_length=None)
    except Exception:  # noqa: BLE001 (polars' errors vary; the row reader gives ours)
        return None
    return frame if frame.height > 1 else None


def _frame_values(frame: pl.DataFrame, fields: list[str]) -> list[list] | None:
    """Each field's values (None where it is not a string); None when a value may be a number
    or boolean polars turned into text (the row reader reads the file as it is)."""
    out = []
    for f in fields:
        col = frame[f]
        if col.dtype != pl.String:  # numbers, lists, objects, nulls: no text in it
            out.append([None] * frame.height)
        elif col.str.contains(_SCALAR_AS_TEXT).any():
            return None
        else:
            out.append(col.to_list())
    return out


def load_benchmark(name: str, path: str, fields: Iterable[str] | None = None) -> Benchmark:
    """A benchmark's texts from its file (see the module docs); a StageError names the
    benchmark, the file and, for a bad row, its line."""
    digest = benchmark_digest(path)
    frame = _json_frame(path)
    rows = _rows(name, path) if frame is None else None
    if rows is not None and not rows:
        raise StageError(f"benchmark {name} ({path}): no rows")
    present = set(frame.columns) if frame is not None else set().union(*(r.keys() for r in rows))
    used = text_fields(name, path, present, list(fields) if fields else None)
    values = _frame_values(frame, used) if frame is not None else None
    if values is None:
        rows = rows if rows is not None else _rows(name, path)
        values = [[row.get(f) for row in rows] for f in used]
    # named fields are all compared; of detected ones, the prompt fields are the prompts
    prompt_fields = used if fields else ([f for f in used if f in PROMPT_FIELDS] or used[:1])
    is_prompt = [f in prompt_fields for f in used]
    bench = Benchmark(name, str(path), digest, used, len(values[0]))
    for row in zip(*values):
        for value, prompt in zip(row, is_prompt):
            if isinstance(value, str) and value.strip():
                bench.texts.append(value)
                if prompt:
                    bench.prompts.append(value)
    return bench


def load_benchmarks(paths: dict[str, str], fields: Iterable[str] | None = None
                    ) -> list[Benchmark]:
    """Every benchmark of a stage's ``benchmarks`` option, in the order given."""
    if not paths:
        raise StageError("no benchmark given: name one as NAME=PATH (--decontam NAME=PATH, "
                         "or benchmarks: {NAME: PATH} in a recipe)")
    return [load_benchmark(name, path, fields) for name, path in paths.items()]
