"""Benchmark of diversity sampling: each method's coverage, seconds and memory, next to random.

    .venv/bin/python -m benchmarks.select --real            # AlpacaEval + Python FAQ prompts
    .venv/bin/python -m benchmarks.select                   # 10k of 1M x 384 random unit rows
    .venv/bin/python -m benchmarks.select --rows 200000 --k 2000 --methods facility,kcenter
    .venv/bin/python -m benchmarks.select --methods facility,before-cover,kcenter

Real data (``--real``): the 805 AlpacaEval instructions, each of its five source sets on its
own, and the 177 questions of the Python FAQ (section titles, ``curate convert --format
docs``), embedded as plain text (what ``select.diverse`` embeds for a single-turn prompt) with
all-MiniLM-L6-v2; 10% of each set is picked. Random is the mean of ``--draws`` seeded draws.
Beside curate's methods: ``facility`` as it was before its set cover (facility location on
the graph for 80% of the budget, farthest-first for the rest) and two plain dense references:
greedy facility location on the full ``n x n`` similarity matrix (what apricot-select
computes) and the same for 80% of the budget followed by k-center for the rest (the issue's
script). ``--reference R`` adds offline bounds of what each measure can reach: the best
k-medoids (swap search) of R random starts and dense facility location, and the smallest
radius of the greedy set cover over every first pick (200 of them above 300 rows).
``--apricot`` adds apricot-select's ``FacilityLocationSelection`` from benchmarks/.venv-peers
when that virtualenv exists. Scale takes ``before-cover`` as a method too (facility as it was
before its set cover).

Scale (default): ``--rows`` x ``--dim`` random unit rows in a vector file, read memory-mapped
as the stage reads them. Per method: seconds, covering radius (largest cosine distance from
a row to its nearest pick; exact), mean distance to the nearest pick (every row when the
method gives it, else ``MEAN_ROWS`` random rows), and memory: the peak anonymous RSS above
the start (the file's pages are the OS cache, not counted) and tracemalloc's peak.
Numbers from a shared machine are noisy: compare rows of one run.
"""

from __future__ import annotations

import os
import sys

# This file is named like the standard library's ``select``: keep its folder off the path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def _threads(argv: list[str]) -> str:
    for i, a in enumerate(argv):
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
    return "2"


THREADS = _threads(sys.argv)
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = THREADS  # before numpy is imported

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from curate.select import select_rows  # noqa: E402
from curate.select.clusters import kmeans  # noqa: E402
from curate.select.coverage import MEAN_ROWS, coverage, random_picks  # noqa: E402
from curate.select.kcenter import kcenter_greedy  # noqa: E402

HERE = Path(__file__).resolve().parent
# as tests/conftest.py: CURATE_SHARED_DATA where the checkout is not beside shared/
SHARED = Path(os.environ.get("CURATE_SHARED_DATA") or HERE.parent.parent / "shared" / "data")
PEERS = HERE / ".venv-peers"

_APRICOT_RUN = """
import json, sys, time
import numpy as np
from apricot import FacilityLocationSelection
X = np.load(sys.argv[1]); k = int(sys.argv[2])
t = time.perf_counter()
sel = FacilityLocationSelection(k, metric="cosine", optimizer="lazy", verbose=False).fit(X)
print(json.dumps({"seconds": time.perf_counter() - t, "picks": [int(i) for i in sel.ranking]}))
"""


class PeakRss:
    """The peak anonymous RSS (``RssAnon``: not the memory-mapped file's pages) while inside."""

    def __enter__(self):
        self.base = self.peak = _anon()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _anon())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _anon())

    @property
    def extra(self) -> int:
        return self.peak - self.base


def _anon() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0


CPU_SECONDS: list[float] = []  # process CPU seconds of each measured call (a busy machine's
# wall seconds depend on the other jobs; CPU seconds much less)


def measured(fn):
    """``fn()`` with its seconds, tracemalloc peak and anonymous-RSS peak (and its CPU
    seconds appended to :data:`CPU_SECONDS`)."""
    tracemalloc.start()
    with PeakRss() as rss:
        t, cpu = time.perf_counter(), time.process_time()
        out = fn()
        seconds = time.perf_counter() - t
        CPU_SECONDS.append(time.process_time() - cpu)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, seconds, peak, rss.extra


def dense_facility(X: np.ndarray, k: int, initial=()) -> list[int]:
    """Plain greedy facility location on the dense similarity matrix (the reference)."""
    S = np.maximum(X @ X.T, 0.0)
    cur = np.zeros(len(X), np.float32)
    picks = list(initial)
    for j in picks:
        cur = np.maximum(cur, S[j])
    while len(picks) < k:
        gain = np.maximum(S - cur, 0).sum(axis=1)
        gain[picks] = -1
        j = int(np.argmax(gain))
        picks.append(j)
        cur = np.maximum(cur, S[j])
    return picks


def before_cover(X: np.ndarray, k: int):
    """``facility`` as it was before its set cover: facility location on the 16-neighbour
    graph for 80% of the budget, farthest-first for the rest."""
    from curate.select.facility import facility_location
    from curate.select.knn import knn_graph

    picks = facility_location(knn_graph(X, 16), k - round(0.2 * k))
    return kcenter_greedy(X, k, initial=picks)


def kmedoids(D: np.ndarray, picks, passes: int = 20) -> list[int]:
    """Swap local search on the mean distance (dense ``D``): each pick in turn moves to the
    row that lowers the mean most, until a pass moves none."""
    p = list(picks)
    for _ in range(passes):
        moved = False
        for i in range(len(p)):
            rest = D[:, p[:i] + p[i + 1:]].min(axis=1)
            total = np.minimum(rest[:, None], D).sum(axis=0)
            j = int(np.argmin(total))
            if total[j] < np.minimum(rest, D[:, p[i]]).sum() - 1e-9:
                p[i], moved = j, True
        if not moved:
            break
    return p


def best_mean(X: np.ndarray, k: int, restarts: int) -> list[int]:
    """The lowest-mean k-medoids found from dense facility location and ``restarts`` seeded
    random starts (an offline reference of what the mean can reach)."""
    D = np.maximum(1 - X @ X.T, 0)
    rng = np.random.default_rng(0)
    starts = [dense_facility(X, k)] + [list(rng.choice(len(X), k, replace=False))
                                        for _ in range(restarts)]
    found = [kmedoids(D, s) for s in starts]
    return min(found, key=lambda p: D[:, p].min(axis=1).mean())


def best_radius(X: np.ndarray, k: int) -> list[int]:
    """The smallest radius the greedy set cover reaches with ``k`` picks from a first pick at
    every row (200 seeded rows above 300 rows; an offline reference of what the radius can
    reach)."""
    from curate.select.cover import cover_tail

    D = np.maximum(1 - X @ X.T, 0)
    best = None
    firsts = range(len(X)) if len(X) <= 300 else \
        np.sort(np.random.default_rng(0).choice(len(X), 200, replace=False))
    for first in firsts:
        tail, _, _ = cover_tail(X, D[first].copy(), k - 1)
        p = [first] + tail.tolist()
        if best is None or D[:, p].min(axis=1).max() < D[:, best].min(axis=1).max():
            best = p
    return best


def random_mean(X, k: int, draws: int, labels=None) -> dict:
    covs = [coverage(X, random_picks(len(X), k, seed=s), labels, seed=s) for s in range(draws)]
    return {key: float(np.mean([c[key] for c in covs]))
            for key in ("covering_radius", "mean_distance")}


def run_apricot(X: np.ndarray, k: int):
    py = PEERS / "bin" / "python"
    if not py.exists() or subprocess.run([str(py), "-c", "import apricot"],
                                         capture_output=True).returncode != 0:
        print("  apricot-select: not installed in benchmarks/.venv-peers (not run)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npy"
        np.save(path, X)
        res = subprocess.run([str(py), "-c", _APRICOT_RUN, str(path), str(k)],
                             capture_output=True, text=True,
                             env={**os.environ, "NUMBA_NUM_THREADS": THREADS})
    if res.returncode != 0:
        print(f"  apricot-select failed: {res.stderr.strip()[-400:]}")
        return None
    return json.loads(res.stdout.strip().splitlines()[-1])


def table(title: str, rows: list, rand: dict) -> None:
    print(f"\n{title}")
    print(f"{'method':<30}{'seconds':>9}{'radius':>9}{'x rand':>8}{'mean d':>9}{'x rand':>8}"
          f"{'anon MB':>9}{'traced MB':>10}")
    print(f"{'random (mean of draws)':<30}{'':>9}{rand['covering_radius']:>9.4f}{1:>8.3f}"
          f"{rand['mean_distance']:>9.4f}{1:>8.3f}")
    for name, sec, cov, traced, anon in rows:
        mb = (lambda v: f"{v / 2**20:.0f}" if v is not None else "-")
        print(f"{name:<30}{sec:>9.2f}{cov['covering_radius']:>9.4f}"
              f"{cov['covering_radius'] / rand['covering_radius']:>8.3f}"
              f"{cov['mean_distance']:>9.4f}{cov['mean_distance'] / rand['mean_distance']:>8.3f}"
              f"{mb(anon):>9}{mb(traced):>10}", flush=True)


# -- real prompts ---------------------------------------------------------------------------
def prompt_sets() -> dict[str, list[str]]:
    from curate.convert import convert

    rows = json.loads(gzip.decompress(
        (SHARED / "alpaca_eval" / "gpt-3.5-turbo-0301.model_outputs.json.gz").read_bytes()))
    sets = {"alpaca_eval": [r["instruction"] for r in rows]}
    for name in sorted({r["dataset"] for r in rows}):
        sets[f"alpaca_eval/{name}"] = [r["instruction"] for r in rows if r["dataset"] == name]
    faq = convert(SHARED / "raw" / "python_faq", format="docs").frame
    sets["python_faq"] = [m[0]["content"] for m in faq["messages"].to_list()]
    return sets


def real(args) -> None:
    from curate.embed import embed_texts

    cache = Path(args.cache)
    for name, texts in prompt_sets().items():
        X = embed_texts(texts, cache_dir=cache, desc=name)
        k = max(2, round(args.share * len(X)))
        rand = random_mean(X, k, args.draws)
        rows, labels = [], kmeans(X, k, seed=0)  # for method clusters (not timed)
        for method in args.methods.split(","):
            sel, sec, traced, anon = measured(lambda: select_rows(X, k, method=method,
                                                                  seed=args.seed,
                                                                  labels=labels))
            rows.append((f"curate {method}", sec, coverage(X, sel.picks, distance=sel.distance),
                         traced, anon))
        res, sec, traced, anon = measured(lambda: before_cover(X, k))
        rows.append(("facility 80% + k-center (old)", sec,
                     coverage(X, res.picks, distance=res.distance), traced, anon))
        picks, sec, traced, anon = measured(lambda: dense_facility(X, k))
        rows.append(("dense facility location", sec, coverage(X, np.array(picks)), traced, anon))
        m = k - round(0.2 * k)
        res, sec, traced, anon = measured(
            lambda: kcenter_greedy(X, k, initial=dense_facility(X, m)))
        rows.append(("dense facility 80% + k-center", sec,
                     coverage(X, res.picks, distance=res.distance), traced, anon))
        if args.reference:
            picks, sec, traced, anon = measured(lambda: best_mean(X, k, args.reference))
            rows.append((f"k-medoids, best of {args.reference + 1}", sec,
                         coverage(X, np.array(picks)), traced, anon))
            picks, sec, traced, anon = measured(lambda: best_radius(X, k))
            rows.append(("set cover, best first pick", sec, coverage(X, np.array(picks)),
                         traced, anon))
        if args.apricot:
            got = run_apricot(X, k)
            if got is not None:
                rows.append(("apricot facility location", got["seconds"],
                             coverage(X, np.array(got["picks"])), None, None))
        table(f"{name}: {k} of {len(X)} prompts (random: mean of {args.draws} draws)", rows, rand)


# -- scale ----------------------------------------------------------------------------------
def planted(path: Path, rows: int, dim: int, seed: int, chunk: int = 100_000):
    """Random unit rows written to a vector file piece by piece (never whole in memory)."""
    from curate.vectors import Vectors

    vectors = Vectors.create(path, rows, dim)
    rng = np.random.default_rng(seed)
    for s in range(0, rows, chunk):
        block = rng.standard_normal((min(chunk, rows - s), dim), dtype=np.float32)
        vectors.write(np.arange(s, s + len(block)), block / np.linalg.norm(block, axis=1,
                                                                           keepdims=True))
    return vectors


def scale(args) -> None:
    from curate.select.knn import NEIGHBOURS_BYTES
    from curate.vectors import view

    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        vectors = planted(Path(tmp) / "x.npy", args.rows, args.dim, args.seed)
        X = view(vectors)
        print(f"{args.k} of {args.rows} x {args.dim} float32 random unit rows in a vector file "
              f"({args.rows * args.dim * 4 / 2**20:.0f} MB, memory-mapped; a 16-neighbour graph "
              f"is {args.rows * 16 * NEIGHBOURS_BYTES / 2**20:.0f} MB), {THREADS} BLAS threads",
              flush=True)
        rows = []
        for method in args.methods.split(","):
            if method == "before-cover":  # facility as it was before its set cover
                sel, sec, traced, anon = measured(lambda: before_cover(X, args.k))
                sel.info = {}
            else:
                sel, sec, traced, anon = measured(lambda: select_rows(X, args.k, method=method,
                                                                      seed=args.seed))
            cov = coverage(X, sel.picks, distance=sel.distance, seed=args.seed)
            rows.append((f"curate {method}", sec, cov, traced, anon))
            print(f"  {method}: {sec:.1f} s ({CPU_SECONDS[-1]:.1f} s CPU), radius "
                  f"{cov['covering_radius']:.4f}, mean {cov['mean_distance']:.4f}, "
                  f"anon +{anon / 2**20:.0f} MB, traced {traced / 2**20:.0f} MB, {sel.info}",
                  flush=True)
        print("  random: measuring the radius of a random draw ...", flush=True)
        rand = random_mean(X, args.k, args.draws)
        table(f"select {args.k} of {args.rows} (random: mean of {args.draws} draws; mean "
              f"distance over {MEAN_ROWS} rows where the method gives no distances)", rows, rand)
        names = [r[0] for r in rows]
        if "curate kcenter" in names:
            at = names.index("curate kcenter")
            for i, (name, sec, *_) in enumerate(rows):
                print(f"  {name}: {sec / rows[at][1]:.2f}x k-center's seconds, "
                      f"{CPU_SECONDS[i] / CPU_SECONDS[at]:.2f}x its CPU seconds")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", action="store_true", help="the real prompt sets")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--k", type=int, default=10_000)
    ap.add_argument("--share", type=float, default=0.1, help="--real: budget per set")
    ap.add_argument("--threads", default=THREADS, help="BLAS threads")
    ap.add_argument("--methods", default=None,
                    help="default: facility,kcenter,clusters (--real), facility,kcenter")
    ap.add_argument("--draws", type=int, default=None,
                    help="random draws averaged (default: 50 --real, 1 at scale)")
    ap.add_argument("--apricot", action="store_true", help="--real: apricot-select too")
    ap.add_argument("--reference", type=int, default=0, metavar="RESTARTS",
                    help="--real: offline references too: the best k-medoids of RESTARTS "
                         "random starts and facility location (the mean), the best greedy "
                         "set cover over the first picks (the radius)")
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "curate-bench-cache"),
                    help="--real: the embedding cache")
    ap.add_argument("--tmp", default=None, help="folder of the vector file")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.methods = args.methods or ("facility,kcenter,clusters" if args.real
                                    else "facility,kcenter")
    args.draws = args.draws or (50 if args.real else 1)
    real(args) if args.real else scale(args)


if __name__ == "__main__":
    main()
