"""Semantic dedup and k-center selection at scale, with the embeddings on disk.

    .venv/bin/python -m benchmarks.scale_semantic --rows 1000000      # dedup.semantic + k-center
    .venv/bin/python -m benchmarks.scale_semantic --rows 250000 --stages dedup
    .venv/bin/python -m benchmarks.scale_semantic --real 2000,8000      # the real model, N vs 4N

Random mode (what :func:`measure` does; ``benchmarks/scale.py`` calls it): ``rows`` short SFT
records in parquet parts, and the run's embedding cache filled with a random unit vector (384
float32) per record text, 1% of them planted near copies (cosine about 0.95) of another row's
vector: embedding a million texts on two cores would take hours, and with every vector in the
cache the stages take their real path (the cache joined part by part into the memory-mapped
vector file, the search and selection reading it in blocks, the decision applied piece by
piece) without the model. Each stage then runs in a process of its own, on the local engine,
which samples its ``RssAnon`` (anonymous memory: what the process allocated, not the file
pages it maps) every 20 ms; the figures are its seconds and peak ``RssAnon``, ``RssFile`` and
``VmHWM``, next to the size of the embedding matrix.

Real mode: ``dedup.semantic`` (all-MiniLM-L6-v2, ``on: response``) on N and 4N real texts
(AlpacaEval instructions and outputs, then paragraphs of the Debian Reference, the Debian New
Maintainers' Guide and the Python FAQ, from ../shared/data), each in its own process with an
empty cache: seconds and peak memory.
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/select.py is named like the standard library's ``select``: keep this folder off
# the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import subprocess
import tempfile
import threading
import time

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DIM = 384
PLANTED = 0.01
MODEL = "all-MiniLM-L6-v2"


# -- the data ---------------------------------------------------------------------------------


def write_records(rows: int, folder: Path, part_rows: int = 50_000) -> None:
    """``rows`` SFT records (a question and an answer naming the row) as parquet parts."""
    import polars as pl

    from curate.io.parts import PartWriter
    from curate.record_schema import RECORD_SCHEMA
    from curate.records import conform

    writer = PartWriter(folder)
    for index, start in enumerate(range(0, rows, part_rows)):
        i = pl.int_range(start, min(start + part_rows, rows), eager=True).alias("i")
        text = pl.col("i").cast(pl.String)
        user = pl.struct(role=pl.lit("user"), content=pl.lit("Tell me about item ") + text)
        reply = pl.struct(role=pl.lit("assistant"),
                          content=pl.lit("Item ") + text + pl.lit(" is one of many."))
        df = i.to_frame().select(
            ("r" + text).alias("id"), pl.lit("sft").alias("kind"), pl.lit("gen").alias("source"),
            pl.concat_list(user, reply).alias("messages"))
        writer.write(index, conform(df.select([pl.col(c) if c in df.columns
                                               else pl.lit(None, t).alias(c)
                                               for c, t in RECORD_SCHEMA.items()])))
    writer.finish()


def fill_cache(source: Path, cache: Path, on: str = "conversation", seed: int = 0) -> int:
    """A random unit vector per record text of ``source`` in the run's embedding cache, one
    cache part per data part; 1% of the rows get a near copy of an earlier row's vector.
    Returns the planted copies."""
    import polars as pl

    from curate import embed_cache
    from curate.embed import part_text
    from curate.io.parts import Parts

    rng = np.random.default_rng(seed)
    folder = embed_cache.cache_folder(cache, MODEL)
    planted, previous = 0, None
    for piece in Parts(source).pieces():
        texts = piece.read().select(part_text(on).alias("t"))["t"].to_list()
        X = rng.standard_normal((len(texts), DIM)).astype(np.float32)
        if previous is not None:  # copies of rows of the part before (other clusters, pieces)
            rows = rng.choice(len(texts), int(len(texts) * PLANTED), replace=False)
            src = rng.choice(len(previous), len(rows), replace=False)
            X[rows] = previous[src] + 0.2 * rng.standard_normal((len(rows), DIM)).astype(
                np.float32) / np.sqrt(DIM)
            planted += len(rows)
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        embed_cache.add(folder, [embed_cache.text_key(t) for t in texts], X)
        previous = X
    assert pl.scan_parquet(f"{folder}/*.parquet").select(pl.len()).collect().item()
    return planted


# -- one stage in a process of its own --------------------------------------------------------


class Sampler:
    """The peak of this process's ``RssAnon`` and ``RssFile`` (kB), sampled every 20 ms."""

    def __init__(self):
        self.peak = {"RssAnon": 0, "RssFile": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        for line in open("/proc/self/status"):
            key = line.split(":")[0]
            if key in self.peak:
                self.peak[key] = max(self.peak[key], int(line.split()[1]))

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.sample()

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()


def run_stage(kind: str, folder: Path, picks: int) -> dict:
    """``dedup.semantic`` or ``select.diverse`` (k-center, ``picks`` rows) on the data in
    ``folder``, on the local engine, with the run's cache there; its figures."""
    from curate.engines.local import LocalEngine
    from curate.io.parts import Parts
    from curate.stages.base import StageContext, StageData
    from curate.stages.dedup_semantic import SemanticDedup
    from curate.stages.select_diverse import SelectDiverse

    if kind == "dedup":
        stage = SemanticDedup({"on": "conversation"})
    elif kind == "real":
        stage = SemanticDedup({"on": "response"})
    else:
        stage = SelectDiverse({"n": picks, "method": "kcenter", "on": "conversation"})
    out = folder / kind
    data = StageData(Parts(folder / "in"), out / "kept", out / "rejected", out / "scratch")
    ctx = StageContext(name=stage.id, index=1, cache_dir=folder / "cache", out_dir=out)
    with Sampler() as sampler:
        before = dict(sampler.peak)
        start = time.perf_counter()
        result = LocalEngine().run_stage(stage, data, ctx)
        seconds = time.perf_counter() - start
    hwm = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM"))
    stats = result.stats
    return {"stage": stage.id, "rows": result.rows_in, "kept": result.rows_out,
            "dropped": result.dropped(), "seconds": round(seconds, 1),
            "rss_anon_mb": round(sampler.peak["RssAnon"] / 1024),
            "rss_anon_before_mb": round(before["RssAnon"] / 1024),
            "rss_file_mb": round(sampler.peak["RssFile"] / 1024),
            "vm_hwm_mb": round(hwm / 1024),
            "details": {k: stats[k] for k in ("search", "clusters", "pairs", "embedded",
                                              "selected", "n_clusters") if k in stats}}


def _in_process(kind: str, folder: Path, picks: int) -> dict:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.scale_semantic", "--stage", kind,
                           "--folder", str(folder), "--picks", str(picks)],
                          cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(rows: int = 1_000_000, *, stages=("dedup", "kcenter"), picks: int = 1000,
            folder: Path | None = None) -> dict:
    """Semantic dedup and k-center selection of ``rows`` records with random embeddings in
    the run's cache (see the module docs): per stage its seconds and peak memory (MB), and
    the size of the embedding matrix (MB) that ``RssAnon`` is to stay below."""
    with tempfile.TemporaryDirectory(prefix="curate-scale-semantic-",
                                     dir=folder) as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        write_records(rows, root / "in")
        planted = fill_cache(root / "in", root / "cache")
        prepared = time.perf_counter() - start
        out = {"rows": rows, "matrix_mb": round(rows * DIM * 4 / 2**20), "planted": planted,
               "prepare_seconds": round(prepared, 1)}
        for kind in stages:
            out[kind] = _in_process(kind, root, picks)
        return out


def real_texts(n: int) -> list[str]:
    """``n`` distinct real texts (see the module docs), in a fixed order."""
    import gzip

    data = ROOT.parent.parent / "shared" / "data"
    if not data.is_dir():
        data = Path("/work/shared/data")
    texts: list[str] = []
    for path in sorted((data / "alpaca_eval").glob("*.model_outputs.json.gz")):
        for r in json.loads(gzip.decompress(path.read_bytes())):
            texts += [r["instruction"], r["output"]]
    for path in [*sorted((data / "raw" / "multilingual").glob("*.txt")),
                 data / "raw" / "maint-guide" / "maint-guide.en.txt",
                 *sorted((data / "raw" / "python_faq").glob("*.rst.txt"))]:
        texts += [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n")
                  if len(p.strip()) > 40]
    texts = list(dict.fromkeys(t for t in texts if t.strip()))
    if len(texts) < n:
        raise SystemExit(f"only {len(texts)} real texts in {data}")
    return texts[:n]


def measure_real(n: int, folder: Path | None = None) -> dict:
    """``dedup.semantic`` with the real model on ``n`` real texts, empty cache."""
    import polars as pl

    from curate.io.parts import write_parts
    from curate.records import records_to_frame

    texts = real_texts(n)
    with tempfile.TemporaryDirectory(prefix="curate-semantic-real-", dir=folder) as tmp:
        root = Path(tmp)
        df = records_to_frame([{"kind": "sft", "id": f"t{i}", "source": "real", "messages": [
            {"role": "user", "content": "Say it."}, {"role": "assistant", "content": t}]}
            for i, t in enumerate(texts)])
        write_parts(df, root / "in")
        del df
        assert pl.scan_parquet(f"{root / 'in'}/*.parquet").select(pl.len()).collect().item() == n
        return _in_process("real", root, 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--stages", default="dedup,kcenter")
    ap.add_argument("--picks", type=int, default=1000)
    ap.add_argument("--real", help="N,4N: the real model on that many real texts")
    ap.add_argument("--tmp", type=Path, help="folder for the temporary run folders")
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:  # the child process
        print(json.dumps(run_stage(args.stage, args.folder, args.picks)))
        return
    if args.real:
        for n in (int(x) for x in args.real.split(",")):
            print(json.dumps({"texts": n, **measure_real(n, args.tmp)}), flush=True)
        return
    print(json.dumps(measure(args.rows, stages=tuple(args.stages.split(",")),
                             picks=args.picks, folder=args.tmp), indent=1))


if __name__ == "__main__":
    main()
