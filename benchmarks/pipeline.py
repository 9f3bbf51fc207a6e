"""Benchmark of the demo recipe's stages on the local and the Ray engine, at growing sizes.

    .venv/bin/python -m benchmarks.pipeline                          # 10k, 100k and 1M records
    .venv/bin/python -m benchmarks.pipeline --sizes 10000 100000 --cpus 2
    .venv/bin/python -m benchmarks.pipeline --sizes 10000 --engines ray
    .venv/bin/python -m benchmarks.pipeline --sizes 2000 20000 --with-embeddings

A generated corpus of N SFT records (a prompt and a 60-word reply of Zipf-distributed
pseudo-words; 5% exact copies in other case and spacing, 5% near copies with one word
changed, 2% refusals, 2% too short replies) goes through the stages of pipelines/demo.yaml
(dedup.exact, dedup.near, quality.rules, safety.toxicity, safety.bias) in order, once with
each engine, each (engine, N) in its own process. Printed per stage: seconds; per run: the
total, the peak RSS of the whole process tree (driver, and for Ray its raylet, object store
and workers: the largest sum of RSS, sampled every 0.2 s), the records kept (equal between
engines, or the run says so) and the cost per 1k records, whose growth with N shows where
cost is not linear. Ray runs on a local Ray with ``--cpus`` CPUs (its start-up is not
counted). The machine is shared: compare the rows of one run.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
WORDS = 60


def make_frame(n: int, seed: int = 0):
    """The generated corpus as a record frame (see the module docs)."""
    import polars as pl

    from curate.records import records_to_frame

    rng = np.random.default_rng(seed)
    vocab = np.array([f"{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}w{i}" for i in range(20_000)])
    ranks = np.minimum(rng.zipf(1.3, size=(n, WORDS)) - 1, len(vocab) - 1)
    texts = pl.Series([" ".join(vocab[r]) for r in ranks])
    out = plant(texts.to_list(), rng)
    return records_to_frame([
        {"id": f"g{i}", "kind": "sft", "source": "gen",
         "messages": [{"role": "user", "content": f"question {i % 997}"},
                      {"role": "assistant", "content": t}]} for i, t in enumerate(out)])


def plant(texts: list[str], rng: np.random.Generator) -> list[str]:
    """``texts`` with the planted noise of the module docs: 5% exact copies in other case and
    spacing, 5% near copies with one word changed, 2% refusals, 2% too short replies."""
    n = len(texts)
    src = rng.integers(0, n, n)
    pick = rng.random(n)
    for i in np.flatnonzero(pick < 0.05):
        texts[i] = "  " + texts[src[i]].upper()
    for i in np.flatnonzero((pick >= 0.05) & (pick < 0.10)):
        words = texts[src[i]].split()
        words[int(rng.integers(5, WORDS - 5))] = "changed"
        texts[i] = " ".join(words)
    for i in np.flatnonzero((pick >= 0.10) & (pick < 0.12)):
        texts[i] = "As an AI language model, I cannot help. " + texts[i]
    for i in np.flatnonzero((pick >= 0.12) & (pick < 0.14)):
        texts[i] = "ok"
    return texts


def _peak_tree_rss(stop: threading.Event, peak: list[int]) -> None:
    import psutil

    me = psutil.Process()
    while not stop.is_set():
        total = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        peak[0] = max(peak[0], total)
        stop.wait(0.2)


EMBEDDING_STAGES = [("dedup.semantic", {"threshold": 0.995, "on": "response"}),
                    ("select.diverse", {"n": 0.1, "method": "kcenter", "on": "response"})]


def one(engine_name: str, n: int, cpus: int, embeddings: bool = False) -> dict:
    """Runs the demo stages (and with ``embeddings`` the stages of EMBEDDING_STAGES) on N
    generated records with one engine (in this process)."""
    os.environ.setdefault("CURATE_PROGRESS", "0")
    from curate.engines import get_engine
    from curate.recipe import load_recipe
    from curate.stages.base import StageContext
    from curate.stages.registry import stage_class

    recipe = load_recipe(ROOT / "pipelines" / "demo.yaml")
    df = make_frame(n)
    if engine_name == "ray":
        import ray

        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    engine = get_engine(engine_name)
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=_peak_tree_rss, args=(stop, peak), daemon=True)
    sampler.start()
    cache = Path(tempfile.mkdtemp(prefix="curate-bench-"))  # as a run's cache: embeddings shared
    stages, total = {}, time.perf_counter()
    plan = [(spec.use, spec.with_, name) for spec, name in zip(recipe.stages,
                                                                 recipe.stage_names())]
    plan += [(use, options, use) for use, options in EMBEDDING_STAGES] if embeddings else []
    for use, options, name in plan:
        t = time.perf_counter()
        res = engine.apply(stage_class(use)(options), df,
                           StageContext(name=name, seed=recipe.seed, cache_dir=cache))
        stages[name] = round(time.perf_counter() - t, 2)
        df = res.kept
    seconds = time.perf_counter() - total
    shutil.rmtree(cache, ignore_errors=True)
    stop.set()
    sampler.join()
    return {"engine": engine_name, "n": n, "stages": stages, "seconds": round(seconds, 2),
            "peak_rss_mb": round(peak[0] / 2**20), "kept": df.height,
            "kept_hash": int(df["id"].hash().sum())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--engines", nargs="+", default=["local", "ray"])
    ap.add_argument("--cpus", type=int, default=os.cpu_count())
    ap.add_argument("--with-embeddings", action="store_true",
                    help="also dedup.semantic (0.995 on responses: the generated replies are "
                         "pseudo-words, each within cosine ~0.97 of another) and select.diverse "
                         "(kcenter, 10%%), with the real all-MiniLM-L6-v2 (slow on CPUs: use "
                         "small sizes)")
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), args.cpus, args.with_embeddings)))
        return
    rows = []
    for n in args.sizes:
        for engine in args.engines:
            cmd = [sys.executable, "-m", "benchmarks.pipeline", "--one", engine, str(n),
                   "--cpus", str(args.cpus)] + (["--with-embeddings"] if args.with_embeddings
                                                else [])
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            result = [line for line in proc.stdout.splitlines() if line.startswith("{")]
            if proc.returncode or not result:
                print(f"{engine} N={n}: failed (exit {proc.returncode})\n"
                      f"{proc.stdout[-1000:]}{proc.stderr[-2000:]}", flush=True)
                continue
            row = json.loads(result[-1])
            rows.append(row)
            per_stage = "  ".join(f"{k} {v:.2f}" for k, v in row["stages"].items())
            print(f"{engine:<5} N={n:>9,}  total {row['seconds']:8.2f} s  "
                  f"{1000 * row['seconds'] / n:6.3f} s/1k  peak RSS {row['peak_rss_mb']:6} MB  "
                  f"kept {row['kept']:,}  | {per_stage}", flush=True)
        same = {(r["kept"], r["kept_hash"]) for r in rows if r["n"] == n}
        if len(same) > 1:
            print(f"N={n}: the engines kept DIFFERENT records", flush=True)
    base = {}
    for r in rows:  # growth of the cost per record against the smallest size of the engine
        first = base.setdefault(r["engine"], r)
        if r is not first:
            ratio = (r["seconds"] / r["n"]) / (first["seconds"] / first["n"])
            print(f"{r['engine']:<5} N={r['n']:,}: cost per record x{ratio:.2f} of "
                  f"N={first['n']:,}", flush=True)


if __name__ == "__main__":
    main()
