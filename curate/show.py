"""A terminal view of a run folder: the funnel, the exports and a few rows.

    summary = show_run("exports/demo", n=3)           # a JSON-ready dict
    summary = show_run("exports/demo", rejected="dedup.exact", reason="duplicate_exact")
    print(render(summary))                            # the text `curate show` prints

The funnel and the exports come from ``manifest.json``; the rows are a seeded sample of
``data.parquet``, or of the rows one stage removed (``rejected/NN_<stage>.parquet``) or every
stage removed for one reason (``reason`` alone).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from .errors import CurateError
from .funnel import input_totals
from .manifest import MANIFEST, read_manifest

TURN_COLUMNS = ("messages", "prompt", "chosen", "rejected")
_ROW_KEYS = ("stage", "id", "kind", "dataset", "source", "drop_reason", "kept_id", "duplicate_of",
             "file", "line", "field", "detail")


def show_run(run: str | Path, *, n: int = 3, rejected: str | None = None,
             reason: str | None = None, seed: int = 0) -> dict[str, Any]:
    """The funnel, exports and ``n`` sample rows of the run folder ``run``; see the module doc.
    CurateError names a folder that is not a run, a stage or a reason that it does not have."""
    from .io.remote import is_url  # startup

    if is_url(run):
        raise CurateError(f"{run}: curate show reads a local run folder; copy the run here "
                          "first (or `curate run ... --resume` it here)")
    folder = Path(run)
    manifest = read_manifest(folder) if folder.is_dir() else None
    if manifest is None:
        raise CurateError(f"{run}: not a run folder (no readable {MANIFEST}); give the folder "
                          "that `curate run` or a command's -o wrote")
    stages = [{k: s.get(k) for k in ("index", "name", "use", "status", "rows_in", "rows_out",
                                      "dropped", "seconds", "rejected", "error")}
              for s in manifest.get("stages", [])]
    for entry, s in zip(stages, manifest.get("stages", [])):
        entry.update({k: s[k] for k in ("added", "datasets") if s.get(k)})
    summary = {"run": str(run), "name": manifest.get("name"), "status": manifest.get("status"),
               "rows_in": manifest.get("rows_in"), "rows_out": manifest.get("rows_out"),
               "stages": stages, "exports": _exports(folder, manifest.get("exports") or [])}

    inputs = input_totals(manifest)
    if inputs:
        summary["inputs"] = inputs
    if rejected is not None or reason is not None:
        files = _rejected_files(folder, stages, rejected)
        sources, label = _rejected_rows(files, reason, rejected)
    else:
        data = folder / "data.parquet"
        sources, label = ([(None, _scan(data))] if data.exists() else None), "data.parquet"
    rows, shown = _sample(sources, n, seed) if sources is not None else (0, [])
    summary["sample"] = {"of": label, "stage": rejected, "reason": reason, "rows": rows,
                         "shown": shown}
    return summary


def _exports(folder: Path, listed: list[dict]) -> list[dict]:
    """The manifest's exports, then the folders under export/ that `curate export` wrote (its
    marker says so: a folder of the user's there is not an export of this run)."""
    from .io.owned import folder_kind  # startup

    out = list(listed)
    known = {e.get("path") for e in listed}
    root = folder / "export"
    for d in sorted(root.iterdir() if root.is_dir() else []):
        if not d.is_dir() or f"export/{d.name}" in known or folder_kind(d) != "export":
            continue
        counts = {}
        for split in ("train", "validation", "test"):
            if (d / f"{split}.parquet").is_file():
                counts[split] = _rows(d / f"{split}.parquet")
            elif (d / f"{split}.jsonl").is_file():
                with open(d / f"{split}.jsonl", "rb") as fh:
                    counts[split] = sum(1 for line in fh if line.strip())
        skipped = {}
        if (d / "rejected" / "export.parquet").exists():
            path = d / "rejected" / "export.parquet"
            skipped = dict(sorted(_collect(_scan(path).group_by("drop_reason").len(),
                                           path).iter_rows()))
        if counts:
            out.append({"target": d.name, "path": f"export/{d.name}", "counts": counts,
                        "skipped": skipped})
    return out


def _broken(path: Path, exc: Exception) -> CurateError:
    first = (str(exc).splitlines() or [""])[0]
    return CurateError(f"{path}: not a readable parquet file ({first}); rerun the stage that "
                       "wrote it")


def _scan(path: Path) -> pl.LazyFrame:
    """The rows of a run's ``*.parquet`` (one file or a folder of parts), lazily."""
    from .io.parts import Parts  # startup

    try:
        parts = Parts(path)
        parts.schema  # a broken footer says so here, not in the middle of a query
    except Exception as exc:  # polars' ComputeError and friends: a broken or partial file
        raise _broken(path, exc) from None
    return parts.scan()


def _collect(lf: pl.LazyFrame, path: Path) -> pl.DataFrame:
    try:
        return lf.collect()
    except Exception as exc:  # a broken part
        raise _broken(path, exc) from None


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(path).num_rows
    except Exception as exc:  # pyarrow.ArrowInvalid
        raise _broken(path, exc) from None


def _rejected_files(folder: Path, stages: list[dict], wanted: str | None) -> list[tuple[str, Path]]:
    """(stage label, file) of the rejected/ files: all of them, or the one of ``wanted`` (an
    index, name, stage id, NN_name or file stem such as export_trl-sft)."""
    out: list[tuple[str, Path, set]] = []
    for s in stages:
        if s.get("rejected"):
            slug = Path(s["rejected"]).stem
            keys = {str(s.get("index")), s.get("name"), s.get("use"), slug}
            out.append((slug, folder / s["rejected"], keys))
    known = {p for _, p, _ in out}
    for p in sorted((folder / "rejected").glob("*.parquet")):
        if p not in known:
            out.append((p.stem, p, {p.stem}))
    if wanted is None:
        return [(slug, p) for slug, p, _ in out if p.exists()]
    match = [(slug, p) for slug, p, keys in out if wanted in keys]
    if not match:
        names = ", ".join(slug for slug, _, _ in out) or "none"
        raise CurateError(f"--rejected {wanted}: no such stage in this run (rejected rows of: "
                          f"{names})")
    if not match[0][1].exists():
        raise CurateError(f"--rejected {wanted}: {match[0][1]} is missing; the stage did not "
                          "finish")
    return match[:1]


def _rejected_rows(files: list[tuple[str, Path]], reason: str | None, wanted: str | None
                   ) -> tuple[list[tuple[str | None, pl.LazyFrame]], str]:
    """The rejected rows to sample from, per file (with ``reason`` alone); the counts per
    reason are aggregates, no file is read whole."""
    sources, counts, found = [], {}, 0
    for slug, path in files:
        lf = _scan(path)
        if "drop_reason" in lf.collect_schema():
            for r, k in _collect(lf.group_by("drop_reason").len(), path).iter_rows():
                counts[r] = counts.get(r, 0) + k
                found += k if r == reason else 0
            if reason is not None:
                lf = lf.filter(pl.col("drop_reason") == reason)
        sources.append((slug if wanted is None else None, lf))
    if reason is not None and not found:
        where = f" by {files[0][0]}" if wanted is not None and files else ""
        have = ", ".join(f"{r} ({k})" for r, k in sorted(counts.items())) or "none"
        raise CurateError(f"--reason {reason}: no rows were removed{where} for this reason; "
                          f"the reasons: {have}")
    where = (f"rejected/{files[0][1].name}" if wanted is not None and files
             else "rejected/")
    return sources, where


def _sample(sources: list[tuple[str | None, pl.LazyFrame]], n: int,
            seed: int) -> tuple[int, list[dict]]:
    """The rows of ``sources`` (one after another) and ``n`` of them picked with ``seed``, in
    their order; only the picked rows are read (with their ``stage``, a source's label)."""
    heights = [lf.select(pl.len()).collect().item() for _, lf in sources]
    total = sum(heights)
    picked = (pl.int_range(0, total, eager=True).sample(n, seed=seed).sort().to_list()
              if total > n else list(range(total)))
    frames, start = [], 0
    for (label, lf), h in zip(sources, heights):
        mine = [p - start for p in picked if start <= p < start + h]
        start += h
        if not mine:
            continue
        df = (lf.with_row_index("_row").filter(pl.col("_row").is_in(mine)).drop("_row")
              .collect(engine="streaming"))
        frames.append(df if label is None else df.with_columns(stage=pl.lit(label)))
    frame = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    return total, _shown(frame)


def _shown(picked: pl.DataFrame) -> list[dict]:
    rows = []
    for row in picked.iter_rows(named=True):
        out = {k: row[k] for k in _ROW_KEYS if row.get(k) is not None}
        for col in TURN_COLUMNS:
            if row.get(col) is not None:
                out[col] = row[col]
        meta = row.get("meta")
        if isinstance(meta, str):
            try:
                meta = json.loads(meta)
            except json.JSONDecodeError:
                pass
        if meta:
            out["meta"] = meta
        if row.get("raw"):
            out["raw"] = row["raw"]
        rows.append(out)
    return rows


# -- text -----------------------------------------------------------------------------------

def _cut(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if width <= 0 or len(text) <= width else text[:width - 1] + "…"


def _dropped(dropped: dict | None) -> str:
    return ", ".join(f"{r}: {k}" for r, k in (dropped or {}).items())


def render(summary: dict[str, Any], *, width: int = 100) -> str:
    """The text of ``summary`` (see :func:`show_run`) for a terminal; texts cut at ``width``
    characters (0: whole)."""
    if summary["rows_in"] is not None and summary["rows_out"] is not None:
        counts = f"{summary['rows_in']} rows in, {summary['rows_out']} out"
    else:  # a run that failed or stopped: the rows its convert step read, if it got that far
        read = next((s["rows_in"] for s in summary["stages"] if s.get("rows_in") is not None),
                    None)
        counts = ("" if read is None else f"{read} rows in, ") + "no records out"
    lines = [f"{summary['run']}: {summary['name']}, {summary['status']}, {counts}", "",
             "funnel:"]
    for s in summary["stages"]:
        slug = (f"{s['index']:02d}_{s.get('name')}" if isinstance(s.get("index"), int)
                else str(s.get("name")))
        if s.get("rows_in") is None:
            lines.append(f"  {slug:<24} {s.get('status')}: {s.get('error') or ''}".rstrip())
            continue
        line = f"  {slug:<24} {s['rows_in']:>7} -> {s.get('rows_out')!s:<7}"
        lines.append((line + (f" dropped {_dropped(s['dropped'])}" if s.get("dropped") else "")
                      ).rstrip())
        for name, d in (s.get("datasets") or {}).items():
            made = f" (+{d['added']} copies)" if d.get("added") else ""
            line = f"    {name:<22} {d['rows_in']:>7} -> {str(d['rows_out']) + made:<7}"
            lines.append((line + (f" dropped {_dropped(d['dropped'])}" if d.get("dropped")
                                  else "")).rstrip())
    if summary.get("inputs"):
        lines += ["", "inputs:"]
        for t in summary["inputs"]:
            tokens = f", {t['tokens']} tokens" if t.get("tokens") is not None else ""
            lic = f" ({t['license']})" if t.get("license") else ""
            lines.append(f"  {t['name']}{lic}: {t['rows_in']} rows read, {t['rows_out']} "
                         f"records out{tokens}")
    lines += ["", "exports:" if summary["exports"] else "exports: none"]
    for e in summary["exports"]:
        counts = ", ".join(f"{k}: {v}" for k, v in (e.get("counts") or {}).items())
        line = f"  {e.get('target')!s:<14} {e.get('path', ''):<22} {counts}"
        if e.get("skipped"):
            line += f"; not exported: {_dropped(e['skipped'])}"
        lines.append(line)
    sample = summary["sample"]
    what = sample["of"] + (f", reason {sample['reason']}" if sample["reason"] else "")
    lines += ["", f"{len(sample['shown'])} of {sample['rows']} rows of {what}:"]
    for i, row in enumerate(sample["shown"], 1):
        lines += _row_lines(i, row, width)
    return "\n".join(lines) + "\n"


def _row_lines(i: int, row: dict, width: int) -> list[str]:
    head = [f"{k} {row[k]}" for k in ("stage", "id", "kind", "dataset", "source", "drop_reason",
                                      "kept_id", "duplicate_of") if row.get(k) is not None]
    if "file" in row:
        head.append(f"{row['file']}:{row.get('line')}"
                    + (f" field '{row['field']}'" if row.get("field") else ""))
    out = [f"  [{i}] " + "  ".join(head)]
    if row.get("detail"):
        out.append(f"      detail: {_cut(row['detail'], width)}")
    for col in TURN_COLUMNS:
        for turn in row.get(col) or []:
            label = turn["role"] if col in ("messages", "prompt") else f"{col} {turn['role']}"
            out.append(f"      {label}: {_cut(turn['content'], width)}")
    if row.get("raw"):
        out.append(f"      raw: {_cut(row['raw'], width)}")
    return out
