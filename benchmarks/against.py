"""Benchmark of near dedup against a reference release (``dedup.near`` with ``against``).

    .venv/bin/python -m benchmarks.against                          # 100k new vs a 1M reference
    .venv/bin/python -m benchmarks.against --new 20000 --ref 200000  # smaller, same ratios

The corpus is :func:`benchmarks.dedup.make_corpus` of NEW + REF documents of 200 Zipf
pseudo-words, 10% of them planted copies of another (1-3 words changed: must go; 8-12 changed:
must stay): the first REF documents are the reference (an earlier release), the last NEW the
new records, so some new records copy the reference, some copy each other. Each variant is
one ``curate dedup --method near`` process on the same records parquet, with a fresh user
cache (``CURATE_HOME``) for the reference's index:

- alone: the NEW records deduplicated by themselves;
- first: against the reference, its index built (and cached) by this run;
- cached: the same again, the index read from the cache;
- together: the NEW + REF records deduplicated as one dataset (what one would do without
  ``against``).

It prints the near dedup stage's seconds (from the run's manifest: the stage only, not
reading the input), each variant's ratio to ``alone``, the process's peak RSS, and the records
removed as duplicates of the reference and of each other. The goal: ``cached`` <= 1.5 x
``alone``. The machine is shared: compare the rows of one run.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import subprocess
import tempfile
import time

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_RUN = """
import atexit, sys
def peak():
    kb = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM"))
    print(f"PEAK_KB {kb}", file=sys.stderr)
atexit.register(peak)
from curate.cli import main
sys.argv = ["curate"] + sys.argv[1:]
main()
"""


def curate(args: list[str], home: Path) -> tuple[dict, int, float]:
    """``curate ARGS`` in its own process: the near dedup stage's manifest entry, the peak
    RSS (kB) and the wall seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CURATE_HOME": str(home),
           "CURATE_PROGRESS": "0", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _RUN, *args], env=env, capture_output=True,
                          text=True)
    wall = time.perf_counter() - t
    if done.returncode:
        raise SystemExit(f"curate {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    peak = int(next(x.split()[1] for x in done.stderr.splitlines() if x.startswith("PEAK_KB")))
    out = Path(args[args.index("-o") + 1])
    manifest = json.loads((out / "manifest.json").read_text())
    stage = next(s for s in manifest["stages"] if s["name"].startswith("dedup"))
    return stage, peak, wall


def planted(texts: list[str], groups, ref: int) -> dict[str, set[int]]:
    """The new records (as rows of the whole corpus) that a planted pair ties to a reference
    record: ``must`` at Jaccard >= 0.85 (must be found), ``may`` at >= 0.8 (may be)."""
    from benchmarks.dedup import jaccard

    out: dict[str, set[int]] = {"must": set(), "may": set()}
    for a, b, _ in groups:
        a, b = int(a), int(b)
        if (a < ref) == (b < ref):
            continue  # both reference or both new: not a copy of the reference
        sim = jaccard(texts[a], texts[b])
        new = max(a, b)
        if sim >= 0.8:
            out["may"].add(new)
        if sim >= 0.85:
            out["must"].add(new)
    return out


def check(out: Path, truth: dict[str, set[int]], ref: int) -> None:
    """Recall of the planted copies of the reference among the records removed as its
    duplicates, and removals without a planted partner (which should not happen)."""
    import polars as pl

    rejected = pl.read_parquet(out / "rejected" / "01_dedup.near.parquet")
    found = {ref + int(i) for i in rejected.filter(
        pl.col("drop_reason") == "duplicate_of_reference")["id"]}
    recall = len(found & truth["must"]) / max(1, len(truth["must"]))
    print(f"  planted copies of the reference at Jaccard >= 0.85: {len(truth['must']):,}, "
          f"found {recall:.4f}; removed without a planted partner at >= 0.8: "
          f"{len(found - truth['may']):,}")


def main() -> None:
    from benchmarks.dedup import make_corpus, write_records

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new", type=int, default=100_000)
    parser.add_argument("--ref", type=int, default=1_000_000)
    parser.add_argument("--keep", default=None, help="work folder to keep (default: a temp)")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="curate-against-"))
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    texts, groups = make_corpus(args.ref + args.new)
    truth = planted(texts, groups, args.ref)
    write_records(texts[:args.ref], work / "ref.parquet")
    write_records(texts[args.ref:], work / "new.parquet")
    write_records(texts, work / "all.parquet")
    del texts
    print(f"corpus: {args.new:,} new + {args.ref:,} reference records "
          f"({time.perf_counter() - t:.0f} s to make)")
    home = work / "home"
    near = ["--method", "near", "--on", "response"]
    rows = []
    for name, source, extra in [
            ("alone", "new.parquet", []),
            ("first", "new.parquet", ["--against", f"v1={work / 'ref.parquet'}"]),
            ("cached", "new.parquet", ["--against", f"v1={work / 'ref.parquet'}"]),
            ("together", "all.parquet", [])]:
        out = work / f"out-{name}"
        stage, peak, wall = curate(["dedup", str(work / source), "-o", str(out), *near, *extra],
                                   home)
        dropped = stage.get("dropped", {})
        against = stage.get("stats", {}).get("against", {}).get("v1", {})
        rows.append((name, stage["seconds"], wall, peak, dropped.get("duplicate_of_reference", 0),
                     dropped.get("duplicate_near", 0), against.get("built")))
        print(f"  {name}: {stage['seconds']:.2f} s", flush=True)
        if name == "cached":
            check(out, truth, args.ref)
    alone = rows[0][1]
    print(f"\n| N = {args.new:,} new, {args.ref:,} reference | stage s | x alone | "
          f"command s | peak RSS | of reference | near | index |")
    print("|---|--:|--:|--:|--:|--:|--:|---|")
    for name, sec, wall, peak, ref, own, built in rows:
        index = "" if built is None else ("built" if built else "cached")
        print(f"| {name} | {sec:.2f} | {sec / alone:.2f}x | {wall:.1f} | {peak / 1024:,.0f} MB "
              f"| {ref:,} | {own:,} | {index} |")
    load = os.getloadavg()
    print(f"\nload average: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
