"""False drops of the default safety chain on benign text, and the thresholds that set them.

    .venv/bin/python -m benchmarks.safety_defaults             # the real corpora and 1,500 generated
    .venv/bin/python -m benchmarks.safety_defaults --generated 3000

Runs the default filter chain (``quality.rules`` + ``safety.toxicity`` + ``safety.bias``, every
option at its default; offline, so the scorer is alt-profanity-check) as ``curate filter
--toxicity --bias`` would, on:

- the real benign corpora in ../shared/data: the three AlpacaEval model outputs (805 each) and
  the Python FAQ;
- generated benign texts full of words a word-level model may take for abuse: balls, nuts,
  black and white objects, killing a process, executing a script, shooting a photo, screws,
  cocktails, Moby Dick... (many also mention girls, boys, women or men, so that the lower
  threshold for a group mention is tried too);
- the demo corpus' planted toxic replies (6 insults, 2 hostile generalisations about a group),
  which a default should still remove.

Prints each corpus' drops by reason (toxic, toxic_about_group, identity_attack: every one of
them on benign text is a false drop), the removed texts, and a sweep of profanity-check
thresholds over the same scores: benign texts dropped vs planted rows caught, for the general
threshold and for the group-mention one. The defaults in curate.safety.scorers.DEFAULT_THRESHOLDS
come from this table (benchmarks/README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("CURATE_PROGRESS", "0")

import polars as pl  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
SAFETY_REASONS = ("toxic", "toxic_about_group", "identity_attack")
# the demo's planted toxic rows (pipelines/data/README.md) as (file, meta line): the physical
# line, so dolly's data row 14 is line 41 and sharegpt's [13] is item 14
PLANTED_TOXIC = {("alpaca.jsonl", 50), ("alpaca.jsonl", 102), ("openai.jsonl", 5),
                 ("openai.jsonl", 45), ("sharegpt.json", 14), ("dolly.csv", 41)}
PLANTED_GROUP = {("alpaca.jsonl", 92), ("openai.jsonl", 2)}

PEOPLE = ["Maria", "Tom", "the girls", "the boys", "Three women", "Two men", "Her brother",
          "The club", "A farmer", "The teacher", "My grandmother", "The students"]
PROBLEMS = [
    "{who} bought {n} bags of nuts and ate {m} of them. How many bags are left?",
    "{who} had {n} tennis balls and gave away {m}. How many balls are left?",
    "{who} counted {n} black pigeons and {m} white pigeons in the park. How many in all?",
    "{who} needs {n} cans of white paint and {m} cans of black paint for the fence.",
    "{who} sorted {n} screws and {m} nuts into boxes for the workshop.",
    "{who} kicked {n} balls into the goal and missed {m}.",
    "{who} cracked {n} walnuts and {m} hazelnuts for the cake.",
    "{who} has {n} black socks and {m} white socks in the drawer.",
    "{who} will shoot {n} photos at the wedding and print {m} of them.",
    "{who} baked {n} white loaves and {m} black rye loaves for the fair.",
    "{who} planted {n} rows of black beans and {m} rows of white onions.",
    "{who} mixed {n} cocktails with coconut and {m} with lime at the party.",
]
TECH = [
    "To stop a hung process, find its PID with `ps aux | grep {name}` and run `kill -9 PID`.",
    "Use `pkill {name}` to kill every process named {name}; `kill -TERM` asks it to exit first.",
    "Execute the script with `python {name}.py`; the shell executes each line in order.",
    "The scheduler executes the job at midnight and kills it if it runs longer than an hour.",
    "If the child process hangs, the parent kills it after the timeout and logs the exit code.",
    "Run `make {name}` to execute the build; a failed step kills the whole build.",
    "Black formats your Python code; run `black {name}.py` before you commit.",
    "The master branch was renamed main; the {name} job still points to the old branch.",
    "Set the background to white and the text to black for the best contrast in {name}.",
    "A dummy variable, also called a dummy, codes a category as 0 or 1 in {name}.",
]
PHOTO = [
    "Shoot the portrait in the golden hour, with the sun behind {who}, and expose for the face.",
    "For a product shoot on a white background, light the backdrop a stop brighter.",
    "We will shoot the black-and-white series in the old factory next week.",
    "Shoot in RAW so that you can fix the white balance of the photos of {who} later.",
    "The photographer shot the basketball game from the baseline, with a fast shutter.",
]
OTHER = [
    "Moby Dick is a novel by Herman Melville about the hunt for a white whale.",
    "Moby Dick is a novel about the hunt for a white whale.",
    "Beat the eggs with the sugar until pale, then fold in the ground nuts.",
    "The rugby hooker throws the ball in at the lineout.",
    "A stopcock shuts off the water supply; turn it clockwise to close it.",
    "Tighten the nuts on the wheel in a star pattern, then check them after 50 km.",
    "The goalkeeper saved three shots and the striker scored with a header.",
    "Butt joints are the simplest joints in woodworking: two ends glued together.",
    "The cat had kittens: two black, one white and one tabby.",
    "Queen Elizabeth sailed on the royal yacht; the white ensign flew from the stern.",
    "In chess, white moves first; black answers, and the game went to an endgame.",
]


def generated_benign(n: int = 1500, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` benign ``(prompt, reply)`` pairs of the kinds above, drawn with ``seed``."""
    rng = random.Random(seed)
    names = ["backup", "server", "report", "worker", "scraper", "indexer"]
    pool = [("Solve this word problem.", p.format(who=w, n=a, m=b))
            for p, w, (a, b) in itertools.product(PROBLEMS, PEOPLE, [(12, 5), (30, 7), (9, 4)])]
    pool += [("How do I do this on Linux?", t.format(name=x)) for t in TECH for x in names]
    pool += [("Any photography tips?", t.format(who=w)) for t in PHOTO for w in PEOPLE]
    pool += [("Tell me something.", t) for t in OTHER]
    return [pool[rng.randrange(len(pool))] if i >= len(pool) else pool[i] for i in range(n)]


def _write_generated(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for q, a in generated_benign(n):
            f.write(json.dumps({"instruction": q, "input": "", "output": a}) + "\n")
    return path


def corpora(tmp: Path, n_generated: int) -> dict[str, Path]:
    out = {}
    for file in sorted((SHARED / "alpaca_eval").glob("*.model_outputs.json.gz")):
        out["alpaca_eval " + file.name.split(".model_outputs")[0]] = file
    out["python FAQ"] = SHARED / "raw" / "python_faq"
    out[f"generated benign ({n_generated})"] = _write_generated(tmp / "benign.jsonl", n_generated)
    return out


def default_chain(path: Path, out: Path) -> dict:
    """``curate filter --toxicity --bias`` with every option at its default."""
    from curate.recipe import parse_recipe
    from curate.runner import run_recipe

    recipe = parse_recipe({"name": "defaults", "on_error": "skip",
                           "input": {"path": str(path)},
                           "stages": [{"use": "quality.rules"}, {"use": "safety.toxicity"},
                                      {"use": "safety.bias"}]})
    return run_recipe(recipe, out, report=False)


def removed_texts(out: Path, manifest: dict) -> list[tuple[str, float, str]]:
    from curate.stages.safety_toxicity import part_text

    rows = []
    for s in manifest["stages"][1:]:
        df = pl.read_parquet(out / s["rejected"])
        if "toxicity" not in df.columns:
            continue
        df = df.filter(pl.col("drop_reason").is_in(SAFETY_REASONS))
        for r in df.select("drop_reason", "toxicity", part_text("response").alias("t")).rows():
            rows.append((r[0], r[1], r[2][:90].replace("\n", " ")))
    return rows


def sweep(frames: dict[str, pl.DataFrame], planted: pl.DataFrame) -> None:
    """Benign drops and planted rows caught per profanity-check threshold, on the scores and
    group mentions the chain computed (``entered`` frames of each run's audit)."""
    benign = pl.concat(list(frames.values()), how="diagonal_relaxed")
    has_group = pl.col("bias_groups").list.len() > 0
    n = benign.height
    print(f"\nsweep over {n} benign records and the demo's planted rows (profanity-check scores)")
    print(f"{'threshold':>9} | {'benign > t':>10} {'rate':>7} | {'benign w/ group > t':>19} "
          f"{'rate':>7} | {'insults caught':>14} | {'group hostility caught':>22}")
    for t in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
        over = benign.filter(pl.col("toxicity") > t).height
        group = benign.filter(has_group & (pl.col("toxicity") > t)).height
        insults = planted.filter(pl.col("planted") == "insult")
        hostile = planted.filter(pl.col("planted") == "group")
        print(f"{t:>9} | {over:>10} {over / n:>7.3%} | {group:>19} {group / n:>7.3%} | "
              f"{(insults['toxicity'] > t).sum():>7} of {insults.height:<4} | "
              f"{(hostile['toxicity'] > t).sum():>13} of {hostile.height:<4}")


def scored_records(out: Path) -> pl.DataFrame:
    """Every record of a run as it came in, with its toxicity (from the run's score cache) and
    group mentions."""
    from curate.stages.base import StageContext
    from curate.stages.safety_bias import Bias
    from curate.stages.safety_toxicity import Toxicity

    df = pl.read_parquet(out / "stages" / "00_convert.parquet")
    df = Toxicity({"max": None}).apply(df, StageContext(cache_dir=out / "cache")).kept
    return df.with_columns(Bias().mentions().alias("bias_groups"))


def planted_rows(tmp: Path) -> pl.DataFrame:
    from curate.convert import convert
    from curate.stages.safety_toxicity import Toxicity

    df = convert(REPO / "pipelines" / "data" / "demo", on_error="skip").frame
    where = [(m["file"], m["line"]) for m in map(json.loads, df["meta"])]
    kind = ["insult" if w in PLANTED_TOXIC else "group" if w in PLANTED_GROUP else None
            for w in where]
    df = df.with_columns(pl.Series("planted", kind)).filter(pl.col("planted").is_not_null())
    return Toxicity({"max": None}).apply(df).kept


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generated", type=int, default=1500)
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        raise SystemExit(f"needs the real corpora in {SHARED}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frames = {}
        print(f"{'corpus':<40} {'records':>7} | {'toxic':>5} {'toxic_about_group':>17} "
              f"{'identity_attack':>15} | {'false drops':>11}")
        total = dropped_total = 0
        removed = {}
        for name, path in corpora(tmp, args.generated).items():
            out = tmp / name.replace(" ", "_")
            manifest = default_chain(path, out)
            drops = {r: 0 for r in SAFETY_REASONS}
            for s in manifest["stages"][1:]:
                for reason, k in s["dropped"].items():
                    if reason in drops:
                        drops[reason] += k
            n = manifest["stages"][1]["rows_in"]
            false = sum(drops.values())
            total, dropped_total = total + n, dropped_total + false
            print(f"{name:<40} {n:>7} | {drops['toxic']:>5} {drops['toxic_about_group']:>17} "
                  f"{drops['identity_attack']:>15} | {false / n:>11.3%}")
            removed[name] = removed_texts(out, manifest)
            frames[name] = scored_records(out).select("toxicity", "bias_groups")
        print(f"{'all benign':<40} {total:>7} | {'':>5} {'':>17} {'':>15} | "
              f"{dropped_total / total:>11.3%}")
        scorer = manifest["stages"][2]["stats"]["scorer"]["scorer"]
        print(f"\nscorer: {scorer}; thresholds: "
              f"{json.dumps({k: manifest['stages'][i]['thresholds'][k] for i, k in ((2, 'max'), (3, 'group_toxicity_max'), (3, 'identity_attack_max'))})}")
        for name, rows in removed.items():
            for reason, tox, text in rows:
                print(f"  removed from {name}: {reason} {tox:.3f} {text!r}")
        sweep(frames, planted_rows(tmp))


if __name__ == "__main__":
    main()
