"""The export's split at N and 4N rows: decided on the driver from every row's keys (the way
before issue 23's split by tasks) against decided by tasks (``curate.export.split_plan``).

    .venv/bin/python -m benchmarks.split                          # 2M and 8M rows
    .venv/bin/python -m benchmarks.split --sizes 500000 2000000 --keep-data /big/disk
    .venv/bin/python -m benchmarks.split --engine ray --cpus 2    # the tasks on a local Ray
    .venv/bin/python -m benchmarks.split --replies 4              # every prompt has 4 rows

The keys are what the export's check pass writes for every exported row (seeded prompt hash,
whether it is a prompt, ``dup_cluster`` hash, stratum), in pieces of 100k rows, with the link
files: 5% of the rows share their prompt with one other row, 4.5% are in ``dup_cluster``s of 3
(each such cluster a group joined from several prompts, whose smallest key text names it: the
texts are stood in for by a function of the row's position, as the pieces' rows are not
written), 3 strata of 60/30/10%. Each way runs in its own process; printed: wall and CPU
seconds, the peak RSS above the process's RSS before the split (VmHWM: on the local engine the
tasks run in that process too, on Ray it is the driver's own), what reached the driver per row
(the driver way: the keys files it read; the tasks: their pickled results), and whether the two
gave the same split row for row.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import pickle
import shutil
import subprocess
import tempfile
import time

import numpy as np
import polars as pl

PIECE = 100_000
STRATA = {1: "a", 2: "b", 3: "c"}


def write_keys(folder: Path, n: int, seed: int = 0, replies: int = 0) -> None:
    """The check pass's keys and links of ``n`` rows, piece by piece; ``replies``: instead,
    every prompt has that many rows (each row shares its prompt: the worst case for the
    driver, which joins the rows that share a key)."""
    from curate.export.split_tasks import ROW, write_links
    from curate.io.parts import PartWriter

    rng = np.random.default_rng(seed)
    for index, start in enumerate(range(0, n, PIECE)):
        m = min(PIECE, n - start)
        ko = rng.integers(0, 2**63, m, dtype=np.int64).astype(np.uint64) * np.uint64(2)
        if replies:
            ko = ko[np.arange(m) // replies * replies]
        else:
            pairs = np.flatnonzero(rng.random(m) < 0.05)
            ko[pairs[1::2]] = ko[pairs[0::2][:len(pairs[1::2])]]  # the row before's prompt
        dc = np.zeros(m, dtype=np.uint64)
        clustered = np.flatnonzero(rng.random(m) < 0.045)
        dc[clustered] = (start + clustered // 3 * 3 + 1).astype(np.uint64)  # clusters of ~3
        st = rng.choice(np.array([1, 2, 3], dtype=np.uint64), m, p=[0.6, 0.3, 0.1])
        keys = pl.DataFrame({
            "ko": pl.Series(ko, dtype=pl.UInt64), "pk": rng.random(m) < 0.97,
            "dc": pl.Series(dc, dtype=pl.UInt64), "st": pl.Series(st, dtype=pl.UInt64),
        }).with_columns(pl.when(pl.col("dc") == 0).then(None).otherwise(pl.col("dc")).alias("dc"))
        PartWriter(folder / "keys").write(index, keys.with_columns(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW)))
        write_links(str(folder), index, keys)


def _text(position: int) -> str:
    return f"key {position * 7919 % 100_003}"


def _texts_at(item):
    _, piece, rows = item
    return [_text(piece.start + r) for r in rows.tolist()]


def _vm(field: str) -> int:
    return next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith(field))


def child(way: str, folder: Path, n: int, engine: str, cpus: int) -> dict:
    """One way of deciding the split, in this process (the tasks on ``engine``); its labels
    are saved for comparing."""
    from types import SimpleNamespace

    import curate.export.split_plan as split_plan
    from curate.export.split import SIDES, split_labels
    from curate.export.split_tasks import ROW, members_in
    from curate.in_process import InProcess
    from curate.io.parts import part_name

    files = sorted((folder / "keys").iterdir())
    sizes = [min(PIECE, n - s) for s in range(0, n, PIECE)]
    returned = [0]

    if engine == "ray":
        from curate.engines.ray import RayEngine as base

        base_options = {"num_cpus": cpus}
    else:
        base, base_options = InProcess, {}

    class Counting(base):
        def map(self, fn, items, **options):
            out = super().map(fn, items, **options)
            returned[0] += sum(len(pickle.dumps(o, protocol=5)) for o in out)
            return out

    tasks = Counting(**base_options)
    if engine == "ray":
        tasks._ray()  # started before the clock and the memory baseline

    split_plan.texts_at = _texts_at
    start_kb = _vm("VmRSS")
    t, cpu = time.perf_counter(), time.process_time()
    if way == "driver":
        keys = pl.concat([pl.read_parquet(f) for f in files]).drop(ROW)
        labels = split_labels(keys, STRATA, test_size=0.1, validation_size=0.05,
                              key_text=lambda rows: [_text(r) for r in rows.tolist()])
        del keys
    else:
        starts = np.cumsum([0] + sizes)
        pieces = [SimpleNamespace(index=i, start=int(starts[i])) for i in range(len(sizes))]
        rules, decided = split_plan.decide_split(tasks, str(folder), pieces, sizes, STRATA,
                                                 test_size=0.1, validation_size=0.05)
        wall, used = time.perf_counter() - t, time.process_time() - cpu
        peak = _vm("VmHWM") - start_kb
        labels = []
        for i, (start, r, s) in enumerate(decided):  # what the write tasks do (not timed)
            keys = pl.read_parquet(folder / "keys" / part_name(i))
            members = members_in(str(folder), rules.ranges, start, start + keys.height)
            labels.append(SIDES[rules.sides(keys, members, r, s)])
        labels = np.concatenate(labels)
        np.save(folder / f"{way}.npy", labels.astype("U10"))
        return {"wall": wall, "cpu": used, "peak_mb": peak / 1024, "returned": returned[0]}
    wall, used = time.perf_counter() - t, time.process_time() - cpu
    peak = _vm("VmHWM") - start_kb
    np.save(folder / f"{way}.npy", labels.astype("U10"))
    return {"wall": wall, "cpu": used, "peak_mb": peak / 1024,
            "returned": sum(f.stat().st_size for f in files)}  # what the driver read


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2_000_000, 8_000_000])
    ap.add_argument("--keep-data", type=Path, help="write the keys here (default: a temp dir)")
    ap.add_argument("--engine", choices=["local", "ray"], default="local",
                    help="where the tasks run (default: local)")
    ap.add_argument("--cpus", type=int, default=2, help="a local Ray's CPUs")
    ap.add_argument("--replies", type=int, default=0,
                    help="every prompt has this many rows (default: 5%% of rows share theirs)")
    ap.add_argument("--child", nargs=3, metavar=("WAY", "DIR", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        way, folder, n = args.child
        print(json.dumps(child(way, Path(folder), int(n), args.engine, args.cpus)))
        return
    base = args.keep_data or Path(tempfile.mkdtemp(prefix="curate-split-bench-"))
    print(f"{'N':>11} {'way':>7} {'wall s':>8} {'CPU s':>7} {'peak MB':>8} {'B/row':>6}  same")
    try:
        for n in args.sizes:
            folder = base / (f"keys-{n}" + (f"-replies{args.replies}" if args.replies else ""))
            if not (folder / "keys").is_dir():
                write_keys(folder, n, replies=args.replies)
            res = {}
            for way in ("driver", "tasks"):
                out = subprocess.run([sys.executable, "-m", "benchmarks.split", "--child", way,
                                      str(folder), str(n), "--engine", args.engine,
                                      "--cpus", str(args.cpus)],
                                     check=True, capture_output=True, text=True).stdout
                res[way] = json.loads(out.strip().splitlines()[-1])
            same = (np.load(folder / "driver.npy") == np.load(folder / "tasks.npy")).all()
            for way, r in res.items():
                print(f"{n:>11,} {way:>7} {r['wall']:>8.1f} {r['cpu']:>7.1f} "
                      f"{r['peak_mb']:>8.0f} {r['returned'] / n:>6.1f}  {same}")
    finally:
        if args.keep_data is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
