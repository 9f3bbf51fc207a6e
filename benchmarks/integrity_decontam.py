"""Benchmark of ``decontam.ngram`` against a plain Python 13-gram set script, with its recall on
planted AlpacaEval items and its false positives on unrelated real text.

    .venv/bin/python -m benchmarks.integrity_decontam               # 20k records
    .venv/bin/python -m benchmarks.integrity_decontam --n 100000 --repeat 3

The benchmark is AlpacaEval's 805 instructions (../shared/data/alpaca_eval). Unrelated real
text: the whole Python FAQ (records from its sections), the Debian Reference paragraphs in six
languages (consecutive paragraphs as prompt and reply) and the README of every package
installed in this virtualenv (its METADATA description, in chunks). Planted: every instruction
verbatim, upper-cased, re-punctuated, inside a longer prompt and in a pair's rejected reply.

Speed: N records (the unrelated ones repeated, 1% planted items); curate runs the stage as a
user gets it (``apply``: the index built from the file, every turn of every part scored, the
decision), the plain script gets the same turns as Python lists (extraction not timed) and a
set of 13-word tuples (NFKC, lower case, ``\\w+`` words) built from the same file (built
before timing). The machine is shared: compare the rows of one run, not runs with each other.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
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


def plain_set(items: list[str], n: int = 13) -> set[tuple[str, ...]]:
    grams = set()
    for t in items:
        w = words(t)
        grams.update(tuple(w[i:i + n]) for i in range(len(w) - n + 1))
    return grams


def plain_scan(texts: list[list[str]], grams: set, n: int = 13) -> list[bool]:
    """The plain script: is any 13-gram of any turn in the set."""
    out = []
    for record in texts:
        hit = False
        for t in record:
            w = words(t)
            if any(tuple(w[i:i + n]) in grams for i in range(len(w) - n + 1)):
                hit = True
                break
        out.append(hit)
    return out


def curate_scan(df: pl.DataFrame, **options):
    from curate.stages.decontam_ngram import _BUILT, decontam_ngram

    _BUILT.clear()  # build the index from the file, as a run does
    return decontam_ngram(df, benchmarks={"alpaca_eval": str(BENCH)}, **options)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="records in the speed corpus")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs (the best is shown)")
    args = ap.parse_args()
    items = [r["instruction"] for r in json.loads(gzip.decompress(BENCH.read_bytes()))]

    # -- recall and false positives ----------------------------------------------------------
    clean = unrelated()
    plants = planted(items)
    print(f"benchmark: {len(items)} AlpacaEval instructions; unrelated real records: "
          f"{len(clean)} (FAQ, Debian Reference paragraphs, package READMEs)")
    grams = plain_set(items)
    res = curate_scan(frame([r for _, r in plants]), fields=["instruction"])
    found = set(res.rejected["id"])
    peer = dict(zip([r["id"] for _, r in plants], plain_scan([turns(r) for _, r in plants],
                                                             grams)))
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
    print(f"plain script false positives: {sum(plain_scan([turns(r) for r in clean], grams))}")

    # -- speed -------------------------------------------------------------------------------
    pool = clean * (args.n // len(clean) + 1)
    plant = [r for _, r in plants][: max(1, args.n // 100)]
    records = (pool[: args.n - len(plant)] + plant)
    records = [{**r, "id": f"{k}"} for k, r in enumerate(records)]
    df, texts = frame(records), [turns(r) for r in records]
    words_total = sum(len(WORD.findall(t)) for r in texts for t in r)
    best_c = best_p = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        ours = curate_scan(df, fields=["instruction"])
        best_c = min(best_c, time.perf_counter() - t0)
        t0 = time.perf_counter()
        theirs = plain_scan(texts, grams)
        best_p = min(best_p, time.perf_counter() - t0)
    print(f"\nspeed: {len(records)} records, {words_total} words, best of {args.repeat}")
    print(f"{'tool':28} {'seconds':>8} {'records/s':>11} {'found':>6}")
    print(f"{'curate decontam.ngram':28} {best_c:8.3f} {len(records) / best_c:11.0f} "
          f"{ours.rejected.height:6d}")
    print(f"{'plain Python 13-gram set':28} {best_p:8.3f} {len(records) / best_p:11.0f} "
          f"{sum(theirs):6d}")
    print(f"ratio (curate / plain): {best_p / best_c:.1f}x")


if __name__ == "__main__":
    main()
