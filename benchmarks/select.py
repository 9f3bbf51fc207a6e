"""Benchmark of diversity sampling: select K of N x DIM float32 unit embeddings (random data).

    .venv/bin/python benchmarks/select.py                 # 10k of 1M x 384, 2 threads
    .venv/bin/python benchmarks/select.py --rows 200000 --k 2000 --no-peers

Prints, per method, the seconds of the selection (k-means included for ``clusters``), the
covering radius of the picks (largest cosine distance from any row to its nearest pick; lower is
better), the clusters covered and the peak memory the selection allocated on top of the input
(tracemalloc: numpy arrays are traced). Then apricot-select's facility location (a submodular
peer) side by side with ours on a subsample that its dense n x n similarity matrix can hold; it
runs in its own virtualenv (benchmarks/.venv-peers, created on demand) and on the same data.
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
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from curate.select import select_rows  # noqa: E402
from curate.select.clusters import kmeans  # noqa: E402
from curate.select.coverage import MEAN_ROWS, coverage  # noqa: E402

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".venv-peers"
APRICOT = ["apricot-select==0.6.1", "scikit-learn"]  # apricot imports sklearn, undeclared

_APRICOT_RUN = """
import json, sys, time
import numpy as np
from apricot import FacilityLocationSelection
X = np.load(sys.argv[1]); k = int(sys.argv[2])
t = time.perf_counter()
sel = FacilityLocationSelection(k, metric="cosine", optimizer="lazy", verbose=False).fit(X)
print(json.dumps({"seconds": time.perf_counter() - t, "picks": [int(i) for i in sel.ranking]}))
"""


def unit_rows(rows: int, dim: int, seed: int, chunk: int = 100_000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.empty((rows, dim), dtype=np.float32)
    for s in range(0, rows, chunk):
        block = rng.standard_normal((min(chunk, rows - s), dim), dtype=np.float32)
        X[s:s + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return X


def run_ours(X, k, method, labels, seed):
    scores = np.random.default_rng(seed + 1).random(len(X)) if method == "deita" else None
    tracemalloc.start()
    t = time.perf_counter()
    if method == "clusters":
        labels = kmeans(X, labels.max() + 1, seed=seed)
    sel = select_rows(X, k, method=method, seed=seed, scores=scores, labels=labels)
    seconds = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return sel, seconds, peak


def peer_python() -> Path | None:
    """The peers' venv python, created with apricot-select on first use; None if that fails."""
    py = PEERS / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        (PEERS / ".gitignore").write_text("*\n")
    probe = subprocess.run([str(py), "-c", "import apricot"], capture_output=True, text=True)
    if probe.returncode != 0:
        inst = subprocess.run([str(py), "-m", "pip", "install", "-q", *APRICOT],
                              capture_output=True, text=True)
        probe = subprocess.run([str(py), "-c", "import apricot"], capture_output=True, text=True)
        if probe.returncode != 0:
            print(f"apricot-select: not usable: {(inst.stderr + probe.stderr).strip()[-800:]}")
            return None
    return py


def run_apricot(py: Path, X: np.ndarray, k: int):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npy"
        np.save(path, X)
        env = {**os.environ, "NUMBA_NUM_THREADS": THREADS}
        res = subprocess.run([str(py), "-c", _APRICOT_RUN, str(path), str(k)],
                             capture_output=True, text=True, env=env)
    if res.returncode != 0:
        print(f"apricot-select failed: {res.stderr.strip()[-800:]}")
        return None
    return json.loads(res.stdout.strip().splitlines()[-1])


def table(title, rows):
    print(f"\n{title}")
    print(f"{'method':<28}{'seconds':>9}{'x kcenter':>10}{'radius':>9}{'mean d*':>9}"
          f"{'clusters':>10}{'extra MB':>10}")
    base = next((r[1] for r in rows if r[0] == "curate kcenter"), None)
    for name, sec, cov, peak in rows:
        ratio = f"{sec / base:.2f}" if base else "-"
        mb = f"{peak / 2**20:.0f}" if peak is not None else "-"
        print(f"{name:<28}{sec:>9.2f}{ratio:>10}{cov['covering_radius']:>9.4f}"
              f"{cov['mean_distance']:>9.4f}"
              f"{cov['clusters_covered']:>5}/{cov['clusters']:<4}{mb:>10}")
    print("radius: largest cosine distance from any row to its nearest pick (exact); mean d*: "
          f"mean distance to the nearest pick (over {MEAN_ROWS} random rows at most; all rows "
          "for k-center, which has them); clusters: k-means clusters "
          "with a pick; extra MB: peak allocated during the selection (tracemalloc)")


def bench(X, k, methods, seed, n_clusters):
    labels = kmeans(X, n_clusters, seed=seed)  # for "clusters covered" (not timed)
    rows = []
    for method in methods:
        sel, seconds, peak = run_ours(X, k, method, labels, seed)
        cov = coverage(X, sel.picks, labels, distance=sel.distance, seed=seed)
        rows.append((f"curate {method}", seconds, cov, peak))
        print(f"  {method}: {seconds:.1f} s, radius {cov['covering_radius']:.4f}", flush=True)
    return labels, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--k", type=int, default=10_000)
    ap.add_argument("--threads", default=THREADS, help="BLAS threads")
    ap.add_argument("--methods", default="kcenter,deita,clusters,random")
    ap.add_argument("--clusters", type=int, default=100, help="k-means clusters")
    ap.add_argument("--peer-rows", type=int, default=10_000)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    methods = args.methods.split(",")

    X = unit_rows(args.rows, args.dim, args.seed)
    print(f"{args.k} of {args.rows} x {args.dim} float32 random unit rows "
          f"({X.nbytes / 2**20:.0f} MB), {THREADS} BLAS threads", flush=True)
    _, rows = bench(X, args.k, methods, args.seed, args.clusters)
    table(f"select {args.k} of {args.rows}", rows)
    if args.no_peers:
        return
    sub = X[:args.peer_rows].copy()
    del X
    k = max(1, args.k * args.peer_rows // args.rows)
    print(f"\napricot-select facility location on {args.peer_rows} rows (its dense similarity "
          f"matrix is rows^2; {args.rows} rows would need "
          f"{args.rows ** 2 * 8 / 2**30:,.0f} GiB in float64), k = {k}", flush=True)
    labels, rows = bench(sub, k, methods, args.seed, min(args.clusters, k))
    py = peer_python()
    if py is not None:
        res = run_apricot(py, sub, k)
        if res is not None:
            cov = coverage(sub, np.array(res["picks"]), labels, seed=args.seed)
            rows.append(("apricot facility location", res["seconds"], cov, None))
    table(f"select {k} of {args.peer_rows}", rows)


if __name__ == "__main__":
    main()
