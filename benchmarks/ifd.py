"""quality.ifd with the packaged SmolLM2-135M on CPU: speed against a plain per-record
transformers loop, and the evidence for its defaults on real data (../shared/data).

    .venv/bin/python -m benchmarks.ifd                          # all four parts
    .venv/bin/python -m benchmarks.ifd --parts speed --speed 32 --parts batch
    .venv/bin/python -m benchmarks.ifd --parts auc --auc 60 --parts grounding --grounding 60

- ``speed``: the first ``--speed`` records of gpt-3.5-turbo-0301's AlpacaEval outputs, scored
  by the stage (``InstructionFollowingDifficulty.score``: length-sorted batches, the
  vocabulary projection only where a reply token is predicted) and by a plain loop (per
  record, the model's own loss over the same two token sequences: the reply after the chat
  template's instruction, and after the bare assistant header). The records are cut into
  chunks and the two alternate chunk by chunk, so that both see the same load on a shared
  machine. Prints records/s of each (wall and process CPU time) and the largest relative
  difference of their scores.
- ``batch``: seconds per sequence of the model's forward pass at batch 1, 4 and 16 (random
  tokens of one length, no padding), and with two single-threaded workers: what batching can
  gain on this machine's CPU.
- ``auc``: ``--auc`` records from each of the three AlpacaEval outputs files and from the
  Python FAQ (question headings and their answers), each with its true reply and with another
  record's reply of the same source (a random derangement): the ROC AUC of ``ifd`` (swapped
  higher), and per threshold the share of true records dropped (false drops: benign data)
  and of swapped ones caught; then the true records the default ``max`` drops.
- ``grounding``: ``--grounding`` passages of the Python FAQ, questions and answers written by
  the packaged model (``generate.questions``, n=1; cached), each answer scored with its true
  passage and with another record's: the ROC AUC of ``grounding`` (wrong passage higher) and
  the share above each threshold.

Scores, generations and the converted model are cached under ``--cache`` (default
``.curate-cache/benchmarks/ifd``), so a rerun of a part costs only what changed.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

OUTPUTS = ("gpt-3.5-turbo-0301", "text_davinci_003", "Meta-Llama-3-8B-Instruct")
THRESHOLDS = (0.9, 1.0, 1.05, 1.1, 1.2)
GROUNDING = (0.8, 0.9, 1.0)


def alpaca_eval(data: Path, name: str) -> list[tuple[str, str]]:
    rows = json.loads(gzip.decompress((data / "alpaca_eval" /
                                       f"{name}.model_outputs.json.gz").read_bytes()))
    return [(r["instruction"], r["output"]) for r in rows if r["output"].strip()]


def faq(data: Path) -> list[tuple[str, str]]:
    from curate.convert import convert

    frame = convert(data / "raw" / "python_faq", format="docs").frame
    return [(m[0]["content"], m[-1]["content"]) for m in frame["messages"].to_list()]


def frame(pairs: list[tuple[str, str]], prefix: str, meta: list[dict] | None = None):
    from curate.records import records_to_frame

    return records_to_frame([{"id": f"{prefix}{i}", "kind": "sft", "source": prefix,
                              "meta": (meta or [{}] * len(pairs))[i],
                              "messages": [{"role": "user", "content": q},
                                           {"role": "assistant", "content": a}]}
                             for i, (q, a) in enumerate(pairs)])


def derangement(n: int, rng) -> list[int]:
    """``d[i]``: whose reply record ``i`` gets, never its own."""
    order = rng.permutation(n)
    d = [0] * n
    for k in range(n):
        d[order[k]] = int(order[(k + 1) % n])
    return d


def auc(negatives, positives) -> float:
    from sklearn.metrics import roc_auc_score

    y = [0] * len(negatives) + [1] * len(positives)
    return float(roc_auc_score(y, list(negatives) + list(positives)))


def stage_and_ctx(name: str, **options):
    from curate.stages.base import StageContext
    from curate.stages.quality_ifd import InstructionFollowingDifficulty

    stage = InstructionFollowingDifficulty({"device": "cpu", **options})
    return stage, StageContext(name=name, cache_dir=ARGS.cache)


def scored(df: pl.DataFrame, name: str, **options) -> pl.DataFrame:
    """The stage's scores (thresholds off), from the score cache where it has them."""
    from curate.engines.local import LocalEngine

    stage, ctx = stage_and_ctx(name, max=None, **options)
    return stage._scored(df, ctx, LocalEngine())


# -- speed -------------------------------------------------------------------------------------
def plain_loop(stage, pairs: list[tuple[str, str]]) -> list[float]:
    """IFD per record, one record at a time: the model's own loss on each sequence."""
    import torch

    from curate.likelihood.texts import Tokens

    lm = stage.lm()
    model, tokens = lm.model(), Tokens(lm.tokenizer(), stage.options.max_tokens)
    out = []
    for question, answer in pairs:
        reply = tokens.reply(answer)
        losses = []
        for context in (tokens.context([{"role": "user", "content": question}]),
                        tokens.alone()):
            ids = torch.tensor([context + reply])
            labels = torch.tensor([[-100] * len(context) + reply])
            with torch.inference_mode():
                losses.append(float(model(input_ids=ids, labels=labels).loss))
        out.append(math.exp(losses[0] - losses[1]))
    return out


def one_thread(run):
    """``run`` with torch on one thread (restored after)."""
    import torch

    def wrapped():
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            run()
        finally:
            torch.set_num_threads(threads)
    return wrapped


def speed(data: Path) -> None:
    import os

    import torch

    pairs = alpaca_eval(data, OUTPUTS[0])[:ARGS.speed]
    stage, ctx = stage_and_ctx("speed")
    stage.lm().model()
    stage.score(frame(pairs[:2], "warm"), ctx)  # load and warm up outside the clock
    plain_loop(stage, pairs[:2])
    chunk = max(1, ARGS.speed // 4)
    names = ("loop", "loop1", "stage")
    took = {name: [0.0, 0.0] for name in names}
    got: dict[str, list[float]] = {name: [] for name in names}
    load = os.getloadavg()[0]
    for k, start in enumerate(range(0, len(pairs), chunk)):
        part = pairs[start:start + chunk]
        runs = [("loop", lambda: got["loop"].extend(plain_loop(stage, part))),
                ("loop1", one_thread(lambda: got["loop1"].extend(plain_loop(stage, part)))),
                ("stage", lambda: got["stage"].extend(
                    stage.score(frame(part, f"c{start}-"), ctx)["ifd"].to_list()))]
        for name, run in runs[k % 3:] + runs[:k % 3]:
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            took[name][0] += time.perf_counter() - wall
            took[name][1] += time.process_time() - cpu
    diff = max(abs(a - b) / b for a, b in zip(got["stage"], got["loop"]))
    tokens = sum(len(stage.lm().tokenizer()(a).input_ids) for _, a in pairs)
    print(f"\n## speed: {len(pairs)} records of {OUTPUTS[0]} (replies {tokens} tokens in all), "
          f"batch_size {stage.options.batch_size}, max_tokens {stage.options.max_tokens}, "
          f"torch threads {torch.get_num_threads()}, stage workers {stage.lm().workers()}, "
          f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end\n")
    print("| scorer | wall s | records/s | CPU s | records per CPU s | ratio (wall) |")
    print("|---|---:|---:|---:|---:|---:|")
    base = len(pairs) / took["loop"][0]
    for name, label in (("loop", "plain per-record loop (model loss), torch's threads"),
                        ("loop1", "the same loop on 1 torch thread"),
                        ("stage", "quality.ifd score()")):
        wall, cpu = took[name]
        print(f"| {label} | {wall:.1f} | {len(pairs) / wall:.2f} | {cpu:.1f} | "
              f"{len(pairs) / cpu:.3f} | {len(pairs) / wall / base:.2f} |")
    print(f"\nlargest relative difference of ifd, stage vs loop: {diff:.2e}")


def batch_cost() -> None:
    """Seconds per sequence of the model's forward pass by batch size (random tokens, equal
    lengths, so no padding): what batching can gain on this machine."""
    import torch

    stage, _ = stage_and_ctx("batch")
    body = stage.lm().model().base_model
    print("\n## forward pass cost per sequence by batch size (no padding)\n")
    print("| tokens | batch 1 | batch 4 | batch 16 | 2 workers x 1 thread, batch 4 |")
    print("|---:|---:|---:|---:|---:|")
    generator = torch.Generator().manual_seed(0)
    for length in (100, 250):
        cells = []
        for size in (1, 4, 16):
            ids = torch.randint(3, 40_000, (size, length), generator=generator)
            cells.append(_seconds(body, ids, max(1, 16 // size)) / size)
        ids = torch.randint(3, 40_000, (4, length), generator=generator)
        cells.append(_two_workers(body, ids) / 4)
        print(f"| {length} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")


def _seconds(body, ids, reps: int) -> float:
    import torch

    with torch.inference_mode():
        body(input_ids=ids[:1, :8], use_cache=False)
        start = time.perf_counter()
        for _ in range(reps):
            body(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False)
    return (time.perf_counter() - start) / reps


def _two_workers(body, ids, reps: int = 4) -> float:
    """Per batch, with two Python threads each running batches on one torch thread."""
    import threading

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.perf_counter()
        workers = [threading.Thread(target=_seconds, args=(body, ids, reps)) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return (time.perf_counter() - start) / (2 * reps)
    finally:
        torch.set_num_threads(threads)


# -- swapped replies -----------------------------------------------------------------------------
def swapped_auc(data: Path) -> None:
    rng = np.random.default_rng(0)
    sources = {name: alpaca_eval(data, name) for name in OUTPUTS}
    sources["python_faq"] = faq(data)
    print(f"\n## swapped replies: {ARGS.auc} records per source, true vs another record's reply\n")
    print("| source | records | AUC | median ifd true | median ifd swapped | "
          + " | ".join(f"> {t}: true / swapped" for t in THRESHOLDS) + " |")
    print("|---|---:|---:|---:|---:|" + "---:|" * len(THRESHOLDS))
    every_true, every_swapped, examples = [], [], []
    for name, pairs in sources.items():
        idx = rng.choice(len(pairs), size=min(ARGS.auc, len(pairs)), replace=False)
        picked = [pairs[i] for i in idx]
        d = derangement(len(picked), rng)
        swapped = [(picked[i][0], picked[d[i]][1]) for i in range(len(picked))]
        out = scored(pl.concat([frame(picked, f"{name}-t"), frame(swapped, f"{name}-s")]),
                     f"auc-{name}")
        n = len(picked)
        true, swap = out["ifd"][:n].to_numpy(), out["ifd"][n:].to_numpy()
        ok = ~np.isnan(true) & ~np.isnan(swap)
        true, swap = true[ok], swap[ok]
        every_true += list(true)
        every_swapped += list(swap)
        rates = " | ".join(f"{(true > t).mean():.1%} / {(swap > t).mean():.1%}"
                           for t in THRESHOLDS)
        print(f"| {name} | {len(true)} | {auc(true, swap):.3f} | {np.median(true):.3f} | "
              f"{np.median(swap):.3f} | {rates} |")
        top = out.head(n).filter(pl.col("ifd") > 1.0)
        examples += [(name, r["ifd"], r["messages"][0]["content"], r["messages"][1]["content"])
                     for r in top.iter_rows(named=True)]
    t, s = np.array(every_true), np.array(every_swapped)
    rates = " | ".join(f"{(t > x).mean():.1%} / {(s > x).mean():.1%}" for x in THRESHOLDS)
    print(f"| **all** | {len(t)} | {auc(t, s):.3f} | {np.median(t):.3f} | {np.median(s):.3f} "
          f"| {rates} |")
    default = stage_and_ctx("default")[0].options.max
    print(f"\ntrue records above 1.0 ({len(examples)}; * above the default max {default}):\n")
    for name, value, q, a in sorted(examples, key=lambda e: -e[1]):
        mark = "*" if value > default else " "
        print(f"- {mark} {name}, ifd {value:.3f}: {q[:90]!r} -> {a[:110]!r}")


# -- grounding -----------------------------------------------------------------------------------
CORPORA = {"python_faq": ("raw/python_faq", 200), "maint-guide": ("raw/maint-guide/maint-guide.en.txt", 120)}


def half(record_id: str) -> str:
    """The fixed half of a record: ``A`` (where the score's form was chosen) or ``B`` (held
    out: only reported)."""
    import zlib

    return "A" if zlib.crc32(record_id.encode()) % 2 == 0 else "B"


def generated(data: Path, corpus: str) -> pl.DataFrame:
    """Q/A records the packaged model wrote from a sample of the corpus' passages (cached)."""
    from curate.convert import convert
    from curate.stages.base import StageContext
    from curate.stages.generate_questions import GenerateQuestions

    path, default = CORPORA[corpus]
    passages = convert(data / path, format="passages").frame
    passages = passages.sample(min(ARGS.grounding or default, passages.height), seed=0)
    stage = GenerateQuestions({"n": 1, "llm": "local", "device": "cpu", "batch_size": 64})
    kept = []
    for start in range(0, passages.height, 40):  # the chunks the cached run was cut in
        result = stage.apply(passages[start:start + 40], StageContext(
            name="generate.questions", cache_dir=ARGS.cache))
        kept.append(result.kept)
    kept = pl.concat(kept)
    print(f"\n{corpus}: {kept.height} Q/A records generated from {passages.height} passages")
    return kept


def grounding(data: Path) -> None:
    print("\n## grounding: generated answers, true passage vs another one (wrong passage "
          "higher)\n")
    print("| corpus | half | records | AUC | true lower than wrong (same answer) | median true "
          "| median wrong | " + " | ".join(f"> {t}: true / wrong" for t in GROUNDING) + " |")
    print("|---|---|---:|---:|---:|---:|---:|" + "---:|" * len(GROUNDING))
    for corpus in CORPORA:
        rng = np.random.default_rng(1)
        qa = generated(data, corpus)
        metas = [json.loads(m) for m in qa["meta"].to_list()]
        pairs = [(m[0]["content"], m[1]["content"]) for m in qa["messages"].to_list()]
        d = derangement(len(pairs), rng)
        wrong = [{"passage": metas[d[i]]["passage"]} for i in range(len(pairs))]
        right = [{"passage": m["passage"]} for m in metas]
        out = scored(pl.concat([frame(pairs, f"{corpus}-true", right),
                                frame(pairs, f"{corpus}-wrong", wrong)]), f"grounding-{corpus}")
        n = len(pairs)
        halves = np.array([half(i) for i in qa["id"].to_list()])
        true_all, bad_all = out["grounding"][:n].to_numpy(), out["grounding"][n:].to_numpy()
        for name, pick in (("A", halves == "A"), ("B (held out)", halves == "B"),
                           ("all", halves != "")):
            true, bad = true_all[pick], bad_all[pick]
            ok = ~np.isnan(true) & ~np.isnan(bad)
            true, bad = true[ok], bad[ok]
            rates = " | ".join(f"{(true > t).mean():.1%} / {(bad > t).mean():.1%}"
                               for t in GROUNDING)
            print(f"| {corpus} | {name} | {len(true)} | {auc(true, bad):.3f} | "
                  f"{(true < bad).sum()} | {np.median(true):.3f} | {np.median(bad):.3f} | "
                  f"{rates} |")
        ifd = out["ifd"][:n].to_numpy()
        print(f"\n{corpus}: ifd of the generated answers (benign): median "
              f"{np.nanmedian(ifd):.3f}, above 1.0 {(ifd > 1.0).mean():.1%}, above 1.05 "
              f"{(ifd > 1.05).mean():.1%}\n")


def main() -> None:
    import torch

    data = Path(ARGS.data)
    if not (data / "alpaca_eval").is_dir():
        raise SystemExit(f"{data}: not the shared data folder (no alpaca_eval/); give --data")
    print(f"SmolLM2-135M-Instruct (packaged), float32, CPU, torch threads "
          f"{torch.get_num_threads()}")
    parts = ARGS.parts or ["speed", "batch", "auc", "grounding"]
    if "speed" in parts:
        speed(data)
    if "batch" in parts:
        batch_cost()
    if "auc" in parts:
        swapped_auc(data)
    if "grounding" in parts:
        grounding(data)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--parts", action="append",
                        choices=["speed", "batch", "auc", "grounding"])
    parser.add_argument("--speed", type=int, default=32, help="records timed")
    parser.add_argument("--auc", type=int, default=60, help="records per source")
    parser.add_argument("--grounding", type=int, default=0,
                        help="passages per corpus (default: 200 of the FAQ, 120 of the guide)")
    parser.add_argument("--cache", type=Path, default=REPO / ".curate-cache" / "benchmarks"
                        / "ifd")
    ARGS = parser.parse_args()
    main()
