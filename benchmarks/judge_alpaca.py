"""How far to trust the embedded judge: SmolLM2-135M (local backend) as ``judge.llm`` on
AlpacaEval pairs that a strong judge already labelled (GPT-4 Turbo's annotations of
gpt4_1106_preview vs. Mixtral-8x7B outputs: which of output_1 / output_2 is better), in
pairwise, pointwise and checklist mode.

    .venv/bin/python -m benchmarks.judge_alpaca                 # 36 items, both modes
    .venv/bin/python -m benchmarks.judge_alpaca --items 12 --modes pairwise

Items: the first of each preference (output_1 / output_2 better), alternating, among pairs with
both outputs under --max-chars (so that 2 cores take minutes, not hours). Printed per mode:
first-position rate, position-bias rate (pairwise), rows with a usable verdict, agreement with
the annotations among decided rows (pairwise: verdicts the same in both orders; a tie decides
nothing), verdicts read from one order only (``one_sided``), seconds. ``--template FILE``
measures another wording.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

ANNOTATIONS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "alpaca_eval" \
    / "Mixtral-8x7B-Instruct-v0.1.annotations.json.gz"


def items(n: int, max_chars: int) -> list[dict]:
    data = json.load(gzip.open(ARGS.annotations))
    short = [d for d in data if d["preference"] in (1.0, 2.0)
             and len(d["output_1"]) < max_chars and len(d["output_2"]) < max_chars]
    ones = [d for d in short if d["preference"] == 1.0]
    twos = [d for d in short if d["preference"] == 2.0]
    out = []
    for a, b in zip(ones, twos):
        out += [a, b]
    return out[:n]


def frame(rows: list[dict]):
    import polars as pl

    from curate.records import records_to_frame

    df = records_to_frame([{"id": f"a{i}", "kind": "sft", "messages": [
        {"role": "user", "content": r["instruction"]},
        {"role": "assistant", "content": r["output_1"]}]} for i, r in enumerate(rows)])
    return df.with_columns(pl.Series("candidates", [[r["output_1"], r["output_2"]]
                                                    for r in rows], pl.List(pl.String)))


def measure(mode: str, rows: list[dict], cache: Path) -> dict:
    from curate.stages.base import StageContext
    from curate.stages.judge_llm import JudgeLLM

    stage = JudgeLLM({"mode": mode, "llm_cache": str(cache), "batch_size": 4,
                      "template": ARGS.template, "judges": [ARGS.judge]})
    start = time.perf_counter()
    result = stage.apply(frame(rows), StageContext(name="judge.llm", on_error="skip"))
    seconds = time.perf_counter() - start
    kept = {r["id"]: r for r in result.kept.to_dicts()}
    agree = decided = one_sided = 0
    for i, item in enumerate(rows):
        row = kept.get(f"a{i}")
        if row is None or row["judge_score"] is None or None in row["judge_score"]:
            continue
        if mode == "pairwise":  # only verdicts checked in both orders
            (c,) = row["judge_comparisons"]
            one_sided += c["consistent"] is None
            if c["consistent"] is not True or c["verdict"] == "tie":
                continue
            first_won = c["verdict"] == "a"
        else:
            s1, s2 = row["judge_score"]
            if s1 == s2:
                continue
            first_won = s1 > s2
        decided += 1
        agree += first_won == (item["preference"] == 1.0)
    judge = result.stats["judges"][0]
    return {"mode": mode, "rows": len(rows), "kept": result.kept.height,
            "dropped": result.stats.get("failures"), "unparseable": judge["unparseable"],
            "requests": judge["requests"],
            "first_position_rate": judge.get("first_position_rate"),
            "position_bias_rate": judge.get("position_bias_rate"),
            "one_sided": one_sided, "decided": decided, "agreement": agree / decided if decided else None,
            "seconds": round(seconds, 1)}


def main() -> None:
    rows = items(ARGS.items, ARGS.max_chars)
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ARGS.modes.split(","):
            print(json.dumps(measure(mode, rows, Path(tmp) / "requests.sqlite")), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=36)
    parser.add_argument("--max-chars", type=int, default=700)
    parser.add_argument("--modes", default="pairwise,pointwise")
    parser.add_argument("--annotations", default=str(ANNOTATIONS))
    parser.add_argument("--template", default=None, help="a judge template file to compare")
    parser.add_argument("--judge", default="local", help="a judge spec, e.g. openai:M@URL")
    ARGS = parser.parse_args()
    main()
