"""Benchmark of near dedup (MinHash LSH, 128 permutations, threshold 0.8) against its peers.

    .venv/bin/python -m benchmarks.dedup                      # N = 20k and 200k, every peer
    .venv/bin/python -m benchmarks.dedup --n 20000 --peers datasketch
    .venv/bin/python -m benchmarks.dedup --n 1000000 --peers none      # memory at 1M docs
    .venv/bin/python -m benchmarks.dedup --whole 40000        # whole command vs a plain script
    .venv/bin/python -m benchmarks.dedup --embed              # embedding paths (fp32 vs bf16)

A generated corpus of N documents of 200 words (Zipf-distributed pseudo-words); 10% of them are
planted copies of another document with 1 to 3 words changed (word 5-gram Jaccard >= 0.85,
which must be removed) or 8 to 12 changed (Jaccard < 0.8, which must stay). Each tool runs in
its own process on the same texts and reports its seconds (reading the corpus excluded: curate
reads it as a run's checkpoint frame, the peers as plain texts), peak RSS (VmHWM of the
process, or ru_maxrss of its worker processes if higher) and the documents it removed. Recall
is over the planted pairs at Jaccard >= 0.85 (at least one of the two removed); precision over
all removals (the planted pairs at Jaccard >= 0.8 form clusters, a cluster of s documents may
lose s - 1). Peers: datasketch (MinHashLSH, a Python loop),
datatrove's MinHash pipeline (LocalPipelineExecutor, 2 workers) and data-juicer's
``document_minhash_deduplicator`` (HF datasets map with 2 processes). They run in their own
virtualenv, benchmarks/.venv-peers, created on first use. The machine is shared: compare the
rows of one run, not runs with each other.
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/select.py is named like the standard library's ``select``: keep this folder off
# the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / ".venv-peers"
# aiohttp, tokenizers, orjson: imported by data-juicer and datatrove without being declared;
# datatrove hashes str, which xxhash 4 refuses
PEER_PACKAGES = ["datasketch==2.0.0", "datatrove==0.10.1", "py-data-juicer==1.6.1", "aiohttp",
                 "tokenizers", "orjson", "xxhash==3.5.0", "polars", "numpy"]
THRESHOLD, NUM_PERM, NGRAM, WORDS = 0.8, 128, 5, 200

# -- the corpus -------------------------------------------------------------------------------


def make_corpus(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """``n`` texts and the planted groups as rows ``(original, copy, words changed)``."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(rng.choice(letters, rng.integers(3, 10))) for _ in range(50_000)]
    vocab = np.array(sorted(set(vocab)))
    ranks = np.minimum(rng.zipf(1.2, size=(n, WORDS)) - 1, len(vocab) - 1)
    docs = ranks.astype(np.int64)
    copies = int(n * 0.10)
    copy_rows = rng.choice(n, copies, replace=False)
    others = np.setdiff1d(np.arange(n), copy_rows)
    origin = rng.choice(others, copies)
    changes = rng.choice([1, 2, 3, 8, 10, 12], copies)
    for row, src, k in zip(copy_rows, origin, changes):
        doc = docs[src].copy()
        spots = rng.choice(np.arange(2, WORDS - 2, 10), k, replace=False)
        doc[spots] = rng.integers(0, len(vocab), k)
        docs[row] = doc
    texts = [" ".join(vocab[d]) for d in docs]
    return texts, np.stack([origin, copy_rows, changes], axis=1)


def jaccard(a: str, b: str) -> float:
    def grams(t):
        w = t.split()
        return {" ".join(w[i:i + NGRAM]) for i in range(len(w) - NGRAM + 1)}
    x, y = grams(a), grams(b)
    return len(x & y) / len(x | y)


def score(removed: set[int], texts: list[str], groups: np.ndarray) -> tuple[float, float]:
    """(precision, recall) of the removed rows against the planted groups.

    True clusters are the connected planted pairs at Jaccard >= the threshold; a cluster of s
    rows should lose s - 1, so precision = sum(min(removed in it, s - 1)) / removed. Recall is
    the share of planted pairs at Jaccard >= 0.85 of which at least one row was removed.
    """
    from curate.dedup.components import components

    n = len(texts)
    sims = np.array([jaccard(texts[o], texts[c]) for o, c, _ in groups])
    labels = components(n, groups[sims >= THRESHOLD][:, :2])
    size = np.bincount(labels, minlength=n)
    gone = np.zeros(n, bool)
    gone[list(removed)] = True
    lost = np.bincount(labels[gone], minlength=n)
    right = np.minimum(lost, np.maximum(size - 1, 0)).sum()
    pos = groups[sims >= 0.85]
    recall = (gone[pos[:, 0]] | gone[pos[:, 1]]).mean() if len(pos) else 1.0
    precision = right / len(removed) if removed else 1.0
    return float(precision), float(recall)


# -- the tools (each runs in its own process) -------------------------------------------------

_CURATE = """
import json, resource, sys, time
def peak_kb():  # this process's own peak (ru_maxrss would carry the parent's across exec)
    own = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM"))
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
import polars as pl
df = pl.read_parquet(sys.argv[1].replace(".parquet", ".records.parquet"))
t = time.perf_counter()
from curate.stages.dedup_near import dedup_near
res = dedup_near(df, threshold=%(threshold)s, num_perm=%(num_perm)s, ngram=%(ngram)s, on="response")
sec = time.perf_counter() - t
print(json.dumps({"seconds": sec, "removed": [int(i) for i in res.rejected["id"]],
                  "rss_kb": peak_kb()}))
"""


def write_records(texts: list[str], path: Path) -> None:
    """The texts as SFT records (one user turn, the text as the reply) in the run frame's
    schema, as a curate run holds them in its checkpoints."""
    import polars as pl

    from curate.record_schema import RECORD_SCHEMA
    from curate.records import conform

    reply = pl.struct(role=pl.lit("assistant"), content=pl.col("text"))
    user = pl.struct(role=pl.lit("user"), content=pl.lit("Write a document."))
    df = pl.DataFrame({"text": texts}).with_row_index("i").select(
        pl.col("i").cast(pl.String).alias("id"), pl.lit("sft").alias("kind"),
        pl.concat_list(user, reply).alias("messages"))
    conform(df.select([pl.col(c) if c in df.columns else pl.lit(None, t).alias(c)
                       for c, t in RECORD_SCHEMA.items()])).write_parquet(path)


_DATASKETCH = """
import json, resource, sys, time
def peak_kb():  # this process's own peak (ru_maxrss would carry the parent's across exec)
    own = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM"))
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
import polars as pl
from datasketch import MinHash, MinHashLSH
texts = pl.read_parquet(sys.argv[1])["text"].to_list()
t = time.perf_counter()
lsh = MinHashLSH(threshold=%(threshold)s, num_perm=%(num_perm)s)
removed = []
for i, text in enumerate(texts):
    w = text.lower().split()
    m = MinHash(num_perm=%(num_perm)s)
    m.update_batch([" ".join(w[j:j + %(ngram)s]).encode() for j in range(len(w) - %(ngram)s + 1)])
    if lsh.query(m):
        removed.append(i)
    else:
        lsh.insert(i, m)
sec = time.perf_counter() - t
print(json.dumps({"seconds": sec, "removed": removed,
                  "rss_kb": peak_kb()}))
"""

_DATATROVE = """
import json, os, resource, sys, tempfile, time
def peak_kb():  # this process's own peak (ru_maxrss would carry the parent's across exec)
    own = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM"))
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
import polars as pl
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets,
    MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.word_tokenizers import WordTokenizer

class Split(WordTokenizer):  # English needs NLTK punkt data, which cannot be downloaded here
    def word_tokenize(self, text): return text.split()
    def sent_tokenize(self, text): return [text]
    def span_tokenize(self, text): return [(0, len(text))]

texts = pl.read_parquet(sys.argv[1])["text"]
work = tempfile.mkdtemp()
half = (len(texts) + 1) // 2
os.makedirs(f"{work}/in")
for k in range(2):
    pl.DataFrame({"text": texts[k * half:(k + 1) * half]}).with_row_index("id", offset=k * half) \\
        .with_columns(pl.col("id").cast(pl.String)).write_ndjson(f"{work}/in/{k}.jsonl")
cfg = MinhashConfig(n_grams=%(ngram)s, num_buckets=%(bands)s, hashes_per_bucket=%(rows)s)
t = time.perf_counter()
quiet = dict(logging_dir=f"{work}/logs", skip_completed=False)
LocalPipelineExecutor([JsonlReader(f"{work}/in"), MinhashDedupSignature(f"{work}/sigs", config=cfg,
    language=Split())], tasks=2, workers=2, **quiet).run()
LocalPipelineExecutor([MinhashDedupBuckets(f"{work}/sigs", f"{work}/buckets", config=cfg)],
    tasks=cfg.num_buckets, workers=2, **quiet).run()
LocalPipelineExecutor([MinhashDedupCluster(f"{work}/buckets", f"{work}/remove", config=cfg)],
    tasks=1, **quiet).run()
LocalPipelineExecutor([JsonlReader(f"{work}/in"), MinhashDedupFilter(f"{work}/remove"),
    JsonlWriter(f"{work}/out")], tasks=2, workers=2, **quiet).run()
sec = time.perf_counter() - t
kept = set(pl.read_ndjson(f"{work}/out/*.jsonl.gz")["id"].cast(pl.Int64).to_list())
removed = [i for i in range(len(texts)) if i not in kept]
print(json.dumps({"seconds": sec, "removed": removed, "rss_kb": peak_kb()}))
"""

_DATAJUICER = """
import json, resource, sys, time
def peak_kb():  # this process's own peak (ru_maxrss would carry the parent's across exec)
    own = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM"))
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
import polars as pl
from loguru import logger
logger.remove()
from datasets import Dataset, disable_progress_bars
disable_progress_bars()
from data_juicer.ops.deduplicator.document_minhash_deduplicator import DocumentMinhashDeduplicator
texts = pl.read_parquet(sys.argv[1])["text"].to_list()
t = time.perf_counter()
op = DocumentMinhashDeduplicator(tokenization="space", window_size=%(ngram)s,
    num_permutations=%(num_perm)s, jaccard_threshold=%(threshold)s)
ds = Dataset.from_dict({"text": texts, "idx": list(range(len(texts)))})
ds = ds.map(op.compute_hash, num_proc=2)
out = op.process(ds)
out = out[0] if isinstance(out, tuple) else out
kept = set(out["idx"])
sec = time.perf_counter() - t
print(json.dumps({"seconds": sec, "removed": [i for i in range(len(texts)) if i not in kept],
                  "rss_kb": peak_kb()}))
"""

TOOLS = {"curate": _CURATE, "datasketch": _DATASKETCH, "datatrove": _DATATROVE,
         "data-juicer": _DATAJUICER}


def peer_python(check: str = ("import datasketch, datatrove, data_juicer.ops, aiohttp, "
                               "tokenizers, orjson, xxhash; xxhash.xxh64_intdigest('x')"),
                packages: list[str] = PEER_PACKAGES) -> Path:
    """The peers' venv python, created on first use, with ``packages`` installed unless
    ``check`` runs there (``--whole`` needs datasketch only)."""
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
    if subprocess.run([str(python), "-c", check], capture_output=True).returncode:
        print("installing the peers into", PEERS, file=sys.stderr)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    return python


def run_tool(name: str, corpus: Path, timeout: int) -> dict:
    from curate.dedup.lsh import optimal_param

    bands, rows = optimal_param(THRESHOLD, NUM_PERM)
    code = TOOLS[name] % {"threshold": THRESHOLD, "num_perm": NUM_PERM, "ngram": NGRAM,
                          "bands": bands, "rows": rows}
    python = sys.executable if name == "curate" else str(peer_python())
    env = dict(os.environ, OMP_NUM_THREADS="2", POLARS_MAX_THREADS="2", CURATE_PROGRESS="0")
    try:
        proc = subprocess.run([python, "-c", code, str(corpus)], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout} s"}
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench(n: int, tools: list[str], timeout: int) -> None:
    texts, groups = make_corpus(n)
    import polars as pl

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.parquet"
        pl.DataFrame({"text": texts}).write_parquet(corpus)
        write_records(texts, corpus.with_suffix(".records.parquet"))
        print(f"\nN = {n:,} documents of {WORDS} words, {len(groups):,} planted copies; "
              f"threshold {THRESHOLD}, {NUM_PERM} permutations, word {NGRAM}-grams")
        print(f"{'tool':<12} {'seconds':>9} {'docs/s':>9} {'ours/it':>7} {'peak RSS':>10} "
              f"{'removed':>8} {'precision':>9} {'recall':>7}")
        base = None
        for name in tools:
            res = run_tool(name, corpus, timeout)
            if "error" in res:
                print(f"{name:<12} {'-':>9} {'-':>9} {'-':>7} {'-':>10} {'-':>8} {'-':>9} "
                      f"{'-':>7}  ({res['error']})")
                continue
            rate = n / res["seconds"]
            base = base or rate
            removed = set(res["removed"])
            precision, recall = score(removed, texts, groups)
            print(f"{name:<12} {res['seconds']:>9.2f} {rate:>9,.0f} {base / rate:>6.1f}x "
                  f"{res['rss_kb'] / 1024:>8,.0f} MB {len(removed):>8,} {precision:>9.4f} "
                  f"{recall:>7.4f}", flush=True)


_PLAIN_DATASKETCH = """
import json, sys
from datasketch import MinHash, MinHashLSH
lsh = MinHashLSH(threshold=0.8, num_perm=128)
kept = 0
with open(sys.argv[1]) as f:
    for i, line in enumerate(f):
        w = json.loads(line)["output"].lower().split()
        m = MinHash(num_perm=128)
        m.update_batch([" ".join(w[j:j + 5]).encode() for j in range(len(w) - 4)])
        if not lsh.query(m):
            lsh.insert(i, m)
            kept += 1
print(kept)
"""


def whole(n: int) -> None:
    """``curate dedup --method near`` (process start to exit) vs a plain datasketch script."""
    texts, _ = make_corpus(n)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "in.jsonl"
        data.write_text("".join(json.dumps({"instruction": "Write a document.", "output": t}) + "\n"
                                for t in texts))
        curate = [str(Path(sys.executable).parent / "curate"), "dedup", str(data), "-o",
                  f"{tmp}/out", "--method", "near", "--on", "response"]
        plain = [str(peer_python("import datasketch", ["datasketch==2.0.0"])), "-c",
                 _PLAIN_DATASKETCH, str(data)]
        print(f"\nwhole command on {n:,} alpaca records, process start to exit: wall seconds, "
              f"and CPU seconds (user + sys; on a busy machine wall time also counts waiting)")
        wall, cpu = {}, {}
        for name, cmd in (("curate dedup --method near", curate), ("datasketch script", plain)):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
            wall[name] = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            print(f"{name:<28} {wall[name]:>8.2f} s wall {cpu[name]:>8.2f} s CPU", flush=True)
        ours, theirs = "curate dedup --method near", "datasketch script"
        print(f"ratio: {wall[theirs] / wall[ours]:.1f}x wall, {cpu[theirs] / cpu[ours]:.1f}x CPU")


def embed_paths() -> None:
    """Throughput of the fp32 and bf16 embedding paths, and their agreement."""
    import re

    from curate import embed

    faq = ROOT.parent / "shared" / "data" / "raw" / "python_faq"
    paras = [p.strip() for f in sorted(faq.glob("*.rst.txt"))
             for p in re.split(r"\n\s*\n", f.read_text(encoding="utf-8")) if len(p.strip()) > 80]
    texts = (paras * 3)[:1000]
    texts = [f"{i} {t}" for i, t in enumerate(texts)]  # distinct, so no cache effect
    out = {}
    for path in ("fp32", "bf16", "fp32", "bf16"):
        os.environ["CURATE_EMBED_PRECISION"] = path
        t = time.perf_counter()
        out[path] = embed.embed_texts(texts)
        print(f"{path}: {len(texts) / (time.perf_counter() - t):7.1f} texts/s", flush=True)
    cos = (out["fp32"] * out["bf16"]).sum(axis=1)
    print(f"bf16 vs fp32 cosine: min {cos.min():.6f}, mean {cos.mean():.6f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, action="append", help="corpus sizes (default 20k, 200k)")
    parser.add_argument("--peers", default="datasketch,datatrove,data-juicer",
                        help="comma-separated peers, or none")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per tool and size")
    parser.add_argument("--whole", type=int, metavar="N", help="whole-command comparison only")
    parser.add_argument("--embed", action="store_true", help="embedding paths only")
    args = parser.parse_args()
    if args.embed:
        return embed_paths()
    if args.whole:
        return whole(args.whole)
    peers = [] if args.peers == "none" else args.peers.split(",")
    for n in args.n or [20_000, 200_000]:
        bench(n, ["curate", *peers], args.timeout)


if __name__ == "__main__":
    main()
