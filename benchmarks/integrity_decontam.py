"""Benchmark of ``decontam.ngram`` against a plain Python 13-gram set script, with its recall on
planted AlpacaEval items and its false positives on unrelated real text.

    .venv/bin/python -m benchmarks.integrity_decontam               # 20k records
    .venv/bin/python -m benchmarks.integrity_decontam --n 100000 --repeat 3

The benchmark is AlpacaEval's 805 instructions (../shared/data/alpaca_eval). Unrelated real
text: the whole Python FAQ (records from its sections), the Debian Reference paragraphs in six
languages (consecutive paragraphs as prompt and reply) and the README of every package
installed in this virtualenv (its METADATA description, in chunks). Planted: every instruction
verbatim, upper-cased, re-punctuated, inside a longer prompt and in a pair's rejected reply.

Speed: N records (the unrelated ones repeated, 1% planted items), each tool timed on the same
work: the records (curate: the frame a stage gets; the script: the same records as Python
dicts, its turns taken out inside the timing) to the ids of the contaminated ones. curate runs
the stage as a user gets it (``apply``: every turn of every part scored, the decision, kept
and rejected split); the script asks whether any 13-word tuple (NFKC, lower case, ``\\w+``
words) of a turn is in a set. Two rows each: the index (curate's hash tables, the script's
set) built from the benchmark file inside the timing, and built before it (curate: read from
the run cache where a first run saved it, as a second run does). The first call in
a process also loads (or, the first time ever, compiles) curate's numba scan and builds its
character table: shown on its own line. The machine is shared: compare the rows of one run,
not runs with each other.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import polars as pl  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
BENCH = SHARED / "alpaca_eval" / "Meta-Llama-3-8B-Instruct.model_outputs.json.gz"
WORD = re.compile(r"\w+")


def qa(i: str, q: str, a: str, source: str) -> dict:
    return {"id": i, "kind": "sft", "source": source, "meta": {},
            "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}


def unrelated() -> list[dict]:
    """Real text that shares no item with AlpacaEval (see the module docs)."""
    from importlib import metadata

    from curate.convert import convert
    from curate.records import frame_to_records

    out = frame_to_records(convert(SHARED / "raw" / "python_faq", format="docs").frame)
    for f in sorted((SHARED / "raw" / "multilingual").glob("*.txt")):
        paras = [p.strip() for p in f.read_text(encoding="utf-8").split("\n\n") if p.strip()]
        out += [qa(f"{f.stem}-{k}", paras[k], paras[k + 1], "multilingual")
                for k in range(0, len(paras) - 1, 2)]
    for dist in sorted(metadata.distributions(), key=lambda d: d.metadata["Name"] or ""):
        body = dist.metadata.get_payload() or ""
        chunks = [c for c in re.split(r"\n\s*\n", body) if len(c.split()) >= 8]
        out += [qa(f"{dist.metadata['Name']}-{k}", chunks[k], chunks[k + 1], "readme")
                for k in range(0, len(chunks) - 1, 2)]
    return out


def planted(items: list[str]) -> list[tuple[str, dict]]:
    """(how, record) for every item in every way."""
    out = []
    for k, t in enumerate(items):
        punct = " ; ".join(WORD.findall(t)) + " ..."
        out += [("verbatim", qa(f"v{k}", t, "An answer.", "planted")),
                ("recased", qa(f"c{k}", t.upper(), "An answer.", "planted")),
                ("repunctuated", qa(f"p{k}", punct, "An answer.", "planted")),
                ("embedded", qa(f"e{k}", f"Some context first.\n\n{t}\n\nThanks!", "ok",
                                "planted")),
                ("rejected", {"id": f"r{k}", "kind": "preference", "source": "planted",
                              "meta": {}, "prompt": [{"role": "user", "content": "Hello."}],
                              "chosen": [{"role": "assistant", "content": "Hi."}],
                              "rejected": [{"role": "assistant", "content": f"Well, {t}"}]})]
    return out


def frame(records: list[dict]) -> pl.DataFrame:
    from curate.records import records_to_frame

    return records_to_frame(records)


def turns(record: dict) -> list[str]:
    parts = record.get("messages") or (record["prompt"] + record["chosen"] + record["rejected"])
    return [t["content"] for t in parts]


def words(text: str) -> list[str]:
    return WORD.findall(unicodedata.normalize("NFKC", text).lower())


def plain_items(path: Path = BENCH) -> list[str]:
    """The benchmark file's instructions, as the plain script reads them."""
    return [r["instruction"] for r in json.loads(gzip.decompress(path.read_bytes()))]


def plain_set(items: list[str], n: int = 13) -> set[tuple[str, ...]]:
    grams = set()
    for t in items:
        w = words(t)
        grams.update(tuple(w[i:i + n]) for i in range(len(w) - n + 1))
    return grams


def plain_scan(records: list[dict], grams: set, n: int = 13) -> list[bool]:
    """The plain script: is any 13-gram of any turn of each record in the set."""
    out = []
    for record in records:
        hit = False
        for t in turns(record):
            w = words(t)
            if any(tuple(w[i:i + n]) in grams for i in range(len(w) - n + 1)):
                hit = True
                break
        out.append(hit)
    return out


def curate_scan(df: pl.DataFrame, cache_dir: Path | None = None, **options):
    """The stage as a run applies it: the index built from the file, or (``cache_dir``) read
    from the run cache where an earlier run saved it."""
    from curate.stages.base import StageContext
    from curate.stages.decontam_ngram import _BUILT, NgramDecontam, NgramOptions

    _BUILT.clear()
    stage = NgramDecontam(NgramOptions(benchmarks={"alpaca_eval": str(BENCH)}, **options))
    return stage.apply(df, StageContext(name=stage.id, cache_dir=cache_dir))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="records in the speed corpus")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs (the best is shown)")
    args = ap.parse_args()
    items = plain_items()
    t0 = time.perf_counter()
    curate_scan(frame([qa("x", items[0], "y", "x")]), fields=["instruction"])
    first_call = time.perf_counter() - t0

    # -- recall and false positives ----------------------------------------------------------
    clean = unrelated()
    plants = planted(items)
    print(f"benchmark: {len(items)} AlpacaEval instructions; unrelated real records: "
          f"{len(clean)} (FAQ, Debian Reference paragraphs, package READMEs)")
    grams = plain_set(items)
    res = curate_scan(frame([r for _, r in plants]), fields=["instruction"])
    found = set(res.rejected["id"])
    peer = dict(zip([r["id"] for _, r in plants], plain_scan([r for _, r in plants], grams)))
    print(f"\n{'planted':14} {'items':>6} {'curate recall':>14} {'plain 13-gram set':>18}")
    for how in ("verbatim", "recased", "repunctuated", "embedded", "rejected"):
        ids = [r["id"] for h, r in plants if h == how]
        print(f"{how:14} {len(ids):6d} {sum(i in found for i in ids) / len(ids):14.4f} "
              f"{sum(peer[i] for i in ids) / len(ids):18.4f}")
    df_clean = frame(clean)
    for fields in (["instruction"], None):
        fp = curate_scan(df_clean, fields=fields).rejected
        print(f"false positives on the unrelated records, fields "
              f"{fields or 'detected (instruction, output)'}: {fp.height} of {df_clean.height}"
              + (f" {fp['contaminated_ngram'].to_list()[:5]}" if fp.height else ""))
    print(f"plain script false positives: {sum(plain_scan(clean, grams))}")

    # -- speed -------------------------------------------------------------------------------
    pool = clean * (args.n // len(clean) + 1)
    plant = [r for _, r in plants][: max(1, args.n // 100)]
    records = (pool[: args.n - len(plant)] + plant)
    records = [{**r, "id": f"{k}"} for k, r in enumerate(records)]
    df = frame(records)
    words_total = sum(len(WORD.findall(t)) for r in records for t in turns(r))

    cache = Path(tempfile.mkdtemp(prefix="decontam-bench-"))
    curate_scan(df.head(1), cache_dir=cache, fields=["instruction"])  # saves the index

    def ours(fresh: bool) -> list[str]:
        return curate_scan(df, cache_dir=None if fresh else cache,
                           fields=["instruction"]).rejected["id"].to_list()

    def theirs(fresh: bool) -> list[str]:
        bench = plain_set(plain_items()) if fresh else grams
        return [r["id"] for r, hit in zip(records, plain_scan(records, bench)) if hit]

    rows = {}
    for fresh in (True, False):
        for tool, run in (("curate decontam.ngram", ours), ("plain Python 13-gram set", theirs)):
            best, found = float("inf"), []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                found = run(fresh)
                best = min(best, time.perf_counter() - t0)
            rows[tool, fresh] = (best, len(found))
    print(f"\nspeed: {len(records)} records, {words_total} words, best of {args.repeat}; "
          f"curate's first call in this process (numba scan, character table): "
          f"{first_call:.2f} s")
    print(f"{'tool':28} {'index':>14} {'seconds':>8} {'records/s':>11} {'found':>6}")
    for fresh in (True, False):
        for tool in ("curate decontam.ngram", "plain Python 13-gram set"):
            sec, found = rows[tool, fresh]
            print(f"{tool:28} {'built in timing' if fresh else 'prebuilt':>14} {sec:8.3f} "
                  f"{len(records) / sec:11.0f} {found:6d}")
        ratio = rows["plain Python 13-gram set", fresh][0] / rows["curate decontam.ngram", fresh][0]
        print(f"ratio (curate / plain), index {'built in timing' if fresh else 'prebuilt'}: "
              f"{ratio:.1f}x")
    shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
