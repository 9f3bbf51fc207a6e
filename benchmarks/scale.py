"""Scale benchmark: a recipe from parquet shards to a TRL export at N and 4N records, both engines.

    .venv/bin/python -m benchmarks.scale                                  # 500k and 2M
    .venv/bin/python -m benchmarks.scale --sizes 200000 800000 --engines local
    .venv/bin/python -m benchmarks.scale --sizes 20000000 --engines local --keep-data /big/disk
    .venv/bin/python -m benchmarks.scale --semantic 1000000               # embeddings on disk

The corpus: N alpaca rows (``instruction``, ``input``, ``output``) in 8 parquet shards, the
output a 60-word reply of Zipf-distributed pseudo-words; 5% exact copies (other case and
spacing), 5% near copies (one word changed), 2% refusals, 2% too-short replies. It is written
shard by shard (never whole in memory) and reused between runs of the same N.

The recipe (point 7 of the scale issue): convert (alpaca columns) -> ``dedup.exact`` ->
``quality.rules`` -> ``dedup.near`` -> ``trl-sft`` export. Each (engine, N) runs ``curate
run`` in its own process; printed: seconds, records/s, the peak RSS of that process (the
local engine's whole work; for Ray the driver's own, not the workers': ``ru_maxrss`` of the
driver process) and the records kept, which must be equal between engines. Ray runs a local
Ray with ``--cpus`` CPUs. The machine may be shared: compare rows of one run. The local engine's worker
processes (``CURATE_PROCESSES``, convert and export on large data) are printed apart: the
largest of them.

``--semantic N``: ``dedup.semantic``'s search and ``select.diverse``'s k-center on N random unit
vectors in a memory-mapped file, with the peak anonymous memory (see
:mod:`benchmarks.scale_semantic`).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import resource
import shutil
import subprocess
import tempfile
import time

import numpy as np

from benchmarks.pipeline import WORDS, plant

ROOT = Path(__file__).resolve().parent.parent
SHARDS = 8
CHUNK = 250_000  # rows generated at once

RECIPE = """\
name: scale
input: {path: %(input)s, format: alpaca}
engine: %(engine)s
seed: 0
on_error: skip
stages:
  - use: dedup.exact
  - use: quality.rules
  - use: dedup.near
    with: {threshold: 0.8}
export:
  - {target: trl-sft, test_size: 0.01}
"""


def write_corpus(n: int, folder: Path, seed: int = 0) -> Path:
    """N generated alpaca rows as SHARDS parquet files in ``folder`` (kept if already there)."""
    import polars as pl

    done = folder / f".complete-{n}"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    vocab = pl.Series([f"{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}w{i}" for i in range(20_000)])
    per_shard = -(-n // SHARDS)
    made = 0
    for shard in range(SHARDS):
        rows = min(per_shard, n - made)
        frames = []
        for start in range(0, rows, CHUNK):
            m = min(CHUNK, rows - start)
            ranks = np.minimum(rng.zipf(1.3, size=(m, WORDS)) - 1, len(vocab) - 1)
            words = vocab.gather(ranks.reshape(-1)).to_frame("w").with_columns(
                pl.int_range(pl.len()).floordiv(WORDS).alias("r"))
            texts = words.group_by("r", maintain_order=True).agg(
                pl.col("w").str.join(" "))["w"].to_list()
            texts = plant(texts, rng)
            first = made + start
            frames.append(pl.DataFrame({
                "instruction": [f"question {(first + i) % 99991}" for i in range(m)],
                "input": [""] * m, "output": texts}))
        pl.concat(frames).write_parquet(folder / f"shard-{shard:02d}.parquet",
                                        row_group_size=50_000)
        made += rows
    done.touch()
    return folder


def one(engine: str, n: int, data: Path, out: Path, cpus: int) -> dict:
    """One run, in this process; the peak RSS is this process's own (the Ray driver's)."""
    os.environ.setdefault("CURATE_PROGRESS", "0")
    from click.testing import CliRunner

    from curate.cli import cli

    recipe = out.parent / f"recipe-{engine}.yaml"
    recipe.write_text(RECIPE % {"input": data, "engine": engine})
    if engine == "ray":
        import ray

        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    result = CliRunner().invoke(cli, ["run", str(recipe), "-o", str(out)])
    seconds = time.perf_counter() - t
    # before anything below reads the results: the peak is the run's own
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # the local engine's worker processes (CURATE_PROCESSES), the largest of them
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if result.exit_code:
        raise SystemExit(f"{engine} N={n}: exit {result.exit_code}\n{result.output[-3000:]}")
    manifest = json.loads((out / "manifest.json").read_text())
    import polars as pl

    kept = pl.scan_parquet(str(out / "data.parquet")).select(
        pl.len().alias("n"), pl.col("id").hash().sum().alias("h")).collect().row(0)
    return {"engine": engine, "n": n, "seconds": round(seconds, 2),
            "peak_rss_mb": round(peak / 1024), "worker_peak_rss_mb": round(workers / 1024),
            "kept": int(kept[0]), "kept_hash": int(kept[1]),
            "stages": {s["name"]: s.get("seconds") for s in manifest["stages"]}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500_000, 2_000_000])
    ap.add_argument("--engines", nargs="+", default=["local", "ray"])
    ap.add_argument("--cpus", type=int, default=os.cpu_count())
    ap.add_argument("--keep-data", type=Path, help="where the corpora are written and kept")
    ap.add_argument("--semantic", type=int, help="the embedding-store check at this many rows")
    ap.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        engine, n, data, out = args.one
        print(json.dumps(one(engine, int(n), Path(data), Path(out), args.cpus)))
        return
    if args.semantic:
        from benchmarks.scale_semantic import main as semantic

        semantic(args.semantic)
        return
    root = args.keep_data or Path(tempfile.mkdtemp(prefix="curate-scale-"))
    rows = []
    for n in args.sizes:
        t = time.perf_counter()
        data = write_corpus(n, root / f"corpus-{n}")
        print(f"N={n:,}: corpus ready ({time.perf_counter() - t:.0f} s)", flush=True)
        for engine in args.engines:
            out = root / f"run-{engine}-{n}"
            cmd = [sys.executable, "-m", "benchmarks.scale", "--one", engine, str(n),
                   str(data), str(out), "--cpus", str(args.cpus)]
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            found = [line for line in proc.stdout.splitlines() if line.startswith("{")]
            if proc.returncode or not found:
                print(f"{engine} N={n:,}: failed (exit {proc.returncode})\n"
                      f"{proc.stdout[-1500:]}{proc.stderr[-1500:]}", flush=True)
                continue
            row = json.loads(found[-1])
            rows.append(row)
            shutil.rmtree(out, ignore_errors=True)
            print(f"{engine:<5} N={n:>11,}  {row['seconds']:9.1f} s  "
                  f"{n / row['seconds']:9,.0f} records/s  peak RSS {row['peak_rss_mb']:6,} MB  "
                  f"(largest worker process {row['worker_peak_rss_mb']:,} MB)  "
                  f"kept {row['kept']:,}", flush=True)
        same = {(r["kept"], r["kept_hash"]) for r in rows if r["n"] == n}
        if len(same) > 1:
            print(f"N={n:,}: the engines kept DIFFERENT records", flush=True)
    firsts: dict[str, dict] = {}
    for r in rows:
        first = firsts.setdefault(r["engine"], r)
        if r is not first:
            print(f"{r['engine']:<5} N={first['n']:,} -> {r['n']:,} (x{r['n'] / first['n']:.0f}):"
                  f" peak RSS x{r['peak_rss_mb'] / first['peak_rss_mb']:.2f}, records/s "
                  f"x{(r['n'] / r['seconds']) / (first['n'] / first['seconds']):.2f}",
                  flush=True)
    if not args.keep_data:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
