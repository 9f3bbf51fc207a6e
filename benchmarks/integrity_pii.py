"""Benchmark of PII detection (stage ``pii``) against library peers, on a planted corpus.

    .venv/bin/python -m benchmarks.integrity_pii                 # N = 2000 replies, every tool
    .venv/bin/python -m benchmarks.integrity_pii --n 500 --tools curate,presidio
    .venv/bin/python -m benchmarks.integrity_pii --real          # also on ../shared/data

The corpus (:mod:`benchmarks.pii_planted`) is N instruction-style replies, prose and code
blocks, with generated e-mail addresses, phone numbers (US, UK, DE, FR, IN, AU formats), public
IPv4/IPv6 addresses, card numbers (Luhn-valid), IBANs (mod-97-valid, 10 countries), SSNs and
secrets (AWS, GitHub, GitLab, Slack, Stripe, OpenAI, Hugging Face keys, JWTs, private keys,
passwords in URLs) planted in them, and look-alikes that must stay (version numbers, localhost,
private and documentation addresses, example.com, placeholder keys, UUIDs, git SHAs, hex
colours, dates, plain numbers, published test card numbers, MAC addresses).

Each tool runs in its own process on the same texts and reports its seconds (reading excluded)
and the spans it found. A planted value is found when a span overlaps it; precision is the
share of spans that overlap a planted value; ``look-alikes hit`` counts look-alikes that a
span overlaps. curate runs the ``pii`` stage (``action: redact``) over the texts as SFT
records; its spans are those of :func:`curate.pii.find` with the detectors whose gate
matched the text, as in the stage.
Peers, in benchmarks/.venv-peers (created on first use): presidio-analyzer's pattern
recognizers (e-mail, phone, IP, credit card, IBAN, US SSN; called directly, without the spaCy
NER that needs a downloaded model), scrubadub (its default detectors less url and twitter),
datafog (``scan(engine="regex")``) and detect-secrets (its default plugins and filters, as
its file scan runs them; secrets only). Recall is given over all planted values and over the
types a tool covers. ``--real`` also runs every tool on benign real text (../shared/data):
what it finds there is, apart from the few real addresses, false positives.
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
import subprocess
import tempfile
from collections import Counter

from benchmarks.pii_planted import make_corpus

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / ".venv-peers"
PEER_PACKAGES = ["presidio-analyzer==2.2.366", "scrubadub==2.0.1", "datafog==4.9.0",
                 "detect-secrets==1.5.0"]
ALL_TYPES = ("email", "phone", "ip_address", "credit_card", "iban", "us_ssn", "secret")

_HEAD = """
import json, sys, time
texts = json.load(open(sys.argv[1]))
def done(seconds, spans):
    print(json.dumps({"seconds": seconds, "spans": spans}))
"""

_CURATE = _HEAD + """
import polars as pl
from curate.pii import find
from curate.pii.patterns import GATES
from curate.records import records_to_frame
from curate.stages.pii import Pii
df = records_to_frame([{"id": str(i), "kind": "sft", "source": "bench", "messages": [
    {"role": "user", "content": "Answer."}, {"role": "assistant", "content": t}]}
    for i, t in enumerate(texts)])
t = time.perf_counter()
Pii({"action": "redact"}).apply(df)
seconds = time.perf_counter() - t
# the spans the stage redacted: each detector on the texts its gate passes, as in the stage
fired = pl.DataFrame({"t": texts}).select(
    *[pl.col("t").str.contains(g).alias(n) for n, g in GATES.items()]).rows()
done(seconds, [[i, f.start, f.end, f.type] for i, (text, row) in enumerate(zip(texts, fired))
               for f in find(text, detectors=[n for n, ok in zip(GATES, row) if ok])])
"""

_PRESIDIO = _HEAD + """
from presidio_analyzer.predefined_recognizers import (CreditCardRecognizer, EmailRecognizer,
    IbanRecognizer, IpRecognizer, PhoneRecognizer, UsSsnRecognizer)
recognizers = [EmailRecognizer(), PhoneRecognizer(), IpRecognizer(), CreditCardRecognizer(),
               IbanRecognizer(), UsSsnRecognizer()]
t = time.perf_counter()
spans = []
for i, text in enumerate(texts):
    for r in recognizers:
        for res in r.analyze(text, r.supported_entities, None):
            spans.append([i, res.start, res.end, res.entity_type])
done(time.perf_counter() - t, spans)
"""

_SCRUBADUB = _HEAD + """
import scrubadub
scrubber = scrubadub.Scrubber()
for name in ("url", "twitter"):
    scrubber.remove_detector(name)
t = time.perf_counter()
spans = [[i, f.beg, f.end, f.type] for i, text in enumerate(texts)
         for f in scrubber.iter_filth(text)]
done(time.perf_counter() - t, spans)
"""

_DATAFOG = _HEAD + """
import datafog
t = time.perf_counter()
spans = [[i, e.start, e.end, e.type] for i, text in enumerate(texts)
         for e in datafog.scan(text, engine="regex").entities]
done(time.perf_counter() - t, spans)
"""

_DETECT_SECRETS = _HEAD + """
# what scan_file does after reading a file's lines (its filters included); scan_line would be
# its ad-hoc mode, which reports every word's entropy
from detect_secrets.core.scan import _process_line_based_plugins
from detect_secrets.settings import default_settings
t = time.perf_counter()
spans = []
with default_settings():
    for i, text in enumerate(texts):
        lines = text.split("\\n")
        starts = [0]
        for line in lines:
            starts.append(starts[-1] + len(line) + 1)
        for s in _process_line_based_plugins(list(enumerate(lines, 1)), "reply.txt"):
            line = lines[s.line_number - 1]
            at = line.find(s.secret_value) if s.secret_value else -1
            if at >= 0:
                start = starts[s.line_number - 1] + at
                spans.append([i, start, start + len(s.secret_value), s.type])
done(time.perf_counter() - t, spans)
"""

TOOLS = {"curate": _CURATE, "presidio": _PRESIDIO, "scrubadub": _SCRUBADUB,
         "datafog": _DATAFOG, "detect-secrets": _DETECT_SECRETS}
COVERS = {"curate": ALL_TYPES, "presidio": ALL_TYPES[:-1],
          "scrubadub": ("email", "phone", "credit_card", "us_ssn", "secret"),
          "datafog": ("email", "phone", "ip_address", "credit_card", "iban", "us_ssn"),
          "detect-secrets": ("secret",)}


def peer_python() -> Path:
    """The peers' venv python, with the PII peers installed on first use."""
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
    check = "import presidio_analyzer, scrubadub, datafog, detect_secrets"
    if subprocess.run([str(python), "-c", check], capture_output=True).returncode:
        print("installing the PII peers into", PEERS, file=sys.stderr)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return python


def run_tool(name: str, corpus: Path, timeout: int) -> dict:
    python = sys.executable if name == "curate" else str(peer_python())
    env = dict(os.environ, OMP_NUM_THREADS="2", POLARS_MAX_THREADS="2", CURATE_PROGRESS="0",
               DATAFOG_NO_TELEMETRY="1", DO_NOT_TRACK="1")
    try:
        proc = subprocess.run([python, "-c", TOOLS[name], str(corpus)], capture_output=True,
                              text=True, timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout} s"}
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _results(tools: list[str], corpus: Path, timeout: int):
    """``(name, result)`` of each tool that ran; a line for each that failed."""
    for name in tools:
        res = run_tool(name, corpus, timeout)
        if "error" in res:
            print(f"{name:<15} failed: {res['error']}", flush=True)
        else:
            yield name, res


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and e > start for s, e in spans)


def score(docs: list[dict], found: list[list], covers: tuple[str, ...]) -> dict:
    """Recall (all planted values, and those of the types the tool covers), precision and
    look-alikes hit; per-type recall."""
    by_doc: dict[int, list[tuple[int, int]]] = {}
    for i, s, e, _ in found:
        by_doc.setdefault(i, []).append((s, e))
    hit, total, looks, true_spans = Counter(), Counter(), 0, 0
    for i, d in enumerate(docs):
        spans = by_doc.get(i, [])
        for s, e, kind in d["planted"]:
            total[kind] += 1
            hit[kind] += _overlaps(spans, s, e)
        looks += sum(_overlaps(spans, s, e) for s, e, _ in d["lookalikes"])
        true_spans += sum(_overlaps([(s, e) for s, e, _ in d["planted"]], a, b)
                          for a, b in spans)
    covered = sum(total[t] for t in covers)
    return {"recall": sum(hit.values()) / sum(total.values()),
            "recall_covered": sum(hit[t] for t in covers) / covered if covered else 0.0,
            "precision": true_spans / len(found) if found else 1.0, "lookalikes": looks,
            "spans": len(found), "per_type": {t: hit[t] / total[t] for t in total}}


def bench(n: int, tools: list[str], timeout: int) -> None:
    docs = make_corpus(n)
    planted = Counter(k for d in docs for _, _, k in d["planted"])
    looks = sum(len(d["lookalikes"]) for d in docs)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "texts.json"
        corpus.write_text(json.dumps([d["text"] for d in docs]))
        print(f"\nN = {n:,} replies, {sum(planted.values()):,} planted values "
              f"({', '.join(f'{k} {v}' for k, v in sorted(planted.items()))}), "
              f"{looks:,} look-alikes")
        print(f"{'tool':<15} {'seconds':>8} {'records/s':>10} {'curate is':>9} {'recall':>7} "
              f"{'(covered)':>9} {'precision':>9} {'look-alikes hit':>15}  types covered")
        base, per_type = None, {}
        for name, res in _results(tools, corpus, timeout):
            rate = n / res["seconds"]
            base = base or rate
            s = score(docs, res["spans"], COVERS[name])
            per_type[name] = s["per_type"]
            print(f"{name:<15} {res['seconds']:>8.2f} {rate:>10,.0f} {base / rate:>8.1f}x "
                  f"{s['recall']:>7.3f} {s['recall_covered']:>9.3f} {s['precision']:>9.3f} "
                  f"{s['lookalikes']:>15,}  {len(COVERS[name])}/7", flush=True)
        print("\nrecall per type")
        print(f"{'tool':<15}" + "".join(f"{t:>12}" for t in ALL_TYPES))
        for name, rec in per_type.items():
            print(f"{name:<15}" + "".join(
                f"{rec.get(t, 0):>12.3f}" if t in COVERS[name] else f"{'-':>12}"
                for t in ALL_TYPES))


def real_texts() -> list[str]:
    """AlpacaEval's instructions with each model's output, and the Python FAQ's paragraphs."""
    import gzip

    data = ROOT.parent / "shared" / "data"
    texts = [r["instruction"] + "\n\n" + r["output"]
             for path in sorted((data / "alpaca_eval").glob("*.model_outputs.json.gz"))
             for r in json.loads(gzip.decompress(path.read_bytes()))]
    texts += [para for path in sorted((data / "raw" / "python_faq").glob("*.rst.txt"))
              for para in path.read_text(encoding="utf-8").split("\n\n") if para.strip()]
    return texts


def bench_real(tools: list[str], timeout: int) -> None:
    """Records/s and what each tool finds on benign real text (../shared/data)."""
    texts = real_texts()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "texts.json"
        corpus.write_text(json.dumps(texts))
        print(f"\nreal text: {len(texts):,} records (AlpacaEval instruction + output, Python "
              "FAQ paragraphs)")
        print(f"{'tool':<15} {'seconds':>8} {'records/s':>10} {'curate is':>9} {'spans':>7} "
              f"{'records with a span':>20}")
        base = None
        for name, res in _results(tools, corpus, timeout):
            rate = len(texts) / res["seconds"]
            base = base or rate
            print(f"{name:<15} {res['seconds']:>8.2f} {rate:>10,.0f} {base / rate:>8.1f}x "
                  f"{len(res['spans']):>7,} {len({s[0] for s in res['spans']}):>20,}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="replies in the corpus")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated tools")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per tool")
    parser.add_argument("--real", action="store_true",
                        help="also run on the real corpora in ../shared/data")
    args = parser.parse_args()
    tools = args.tools.split(",")
    unknown = [t for t in tools if t not in TOOLS]
    if unknown:
        parser.error(f"unknown tools {', '.join(unknown)} (known: {', '.join(TOOLS)})")
    bench(args.n, tools, args.timeout)
    if args.real:
        bench_real(tools, args.timeout)


if __name__ == "__main__":
    main()
