"""What the embedded text form changes: a single turn as its content alone vs ``role: content``.

    .venv/bin/python -m benchmarks.embed_text_form

On the 805 AlpacaEval instructions (a prompt: ``user: `` before) and one model's 805 replies
(a response: ``assistant: `` before), embedded both ways with all-MiniLM-L6-v2: the mean
pairwise cosine, how many pairs reach each cosine (the semantic dedup threshold is 0.9), the
rank correlation of the pair similarities between the two forms, and the pairs at or above
0.85 in the plain form (to read whether they are duplicates). Then what ``decontam.semantic``
sees (it embeds a record's user turns as plain text, as before): the light paraphrases of the
decontam tests against their own item, and the Python FAQ questions against their nearest
AlpacaEval instruction.
"""

from __future__ import annotations

import gzip
import os
import json
import sys
import tempfile
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# as tests/conftest.py: CURATE_SHARED_DATA where the checkout is not beside shared/
SHARED = Path(os.environ.get("CURATE_SHARED_DATA") or ROOT.parent / "shared" / "data")
CUTS = (0.8, 0.85, 0.9, 0.95)


def pair_stats(name: str, plain: np.ndarray, prefixed: np.ndarray, texts: list[str]) -> None:
    iu = np.triu_indices(len(plain), 1)
    a, b = (plain @ plain.T)[iu], (prefixed @ prefixed.T)[iu]
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    rho = float(np.corrcoef(ra, rb)[0, 1])
    print(f"\n{name}: {len(plain)} texts, {len(a):,} pairs; Spearman of the two forms: {rho:.3f}")
    print(f"{'form':<18}{'mean cos':>9}" + "".join(f"{'>= ' + str(c):>9}" for c in CUTS))
    for label, s in (("content alone", a), ("role: content", b)):
        print(f"{label:<18}{s.mean():>9.3f}" + "".join(f"{int((s >= c).sum()):>9}" for c in CUTS))
    print("pairs >= 0.85 in the plain form (cosine plain / with the role):")
    for k in np.flatnonzero(a >= 0.85)[np.argsort(-a[a >= 0.85])]:
        i, j = iu[0][k], iu[1][k]
        print(f"  {a[k]:.3f} / {b[k]:.3f}  {texts[i][:70]!r}  ~  {texts[j][:70]!r}")


def main() -> None:
    from curate.convert import convert
    from curate.embed import embed_texts

    cache = Path(tempfile.gettempdir()) / "curate-bench-cache"
    rows = json.loads(gzip.decompress(
        (SHARED / "alpaca_eval" / "gpt-3.5-turbo-0301.model_outputs.json.gz").read_bytes()))
    ins = [r["instruction"] for r in rows]
    out = [r["output"] for r in rows]
    for name, texts, role in (("AlpacaEval instructions (on: prompt)", ins, "user"),
                              ("gpt-3.5 replies (on: response)", out, "assistant")):
        plain = embed_texts(texts, cache_dir=cache, desc="plain")
        prefixed = embed_texts([f"{role}: {t}" for t in texts], cache_dir=cache, desc=role)
        pair_stats(name, plain, prefixed, texts)

    sys.path.insert(0, str(ROOT))
    from tests.stages.test_decontam_semantic import REAL_PARAPHRASES

    A = embed_texts(ins, cache_dir=cache)
    P = embed_texts([p for _, p in REAL_PARAPHRASES], cache_dir=cache)
    own = [float(P[n] @ A[i]) for n, (i, _) in enumerate(REAL_PARAPHRASES)]
    nearest = (P @ A.T).argmax(axis=1)
    faq = convert(SHARED / "raw" / "python_faq", format="docs").frame
    questions = [m[0]["content"] for m in faq["messages"].to_list()]
    F = embed_texts(questions, cache_dir=cache)
    best = (F @ A.T).max(axis=1)
    print(f"\ndecontam.semantic (threshold 0.75): {len(own)} paraphrases at cosine "
          f"{min(own):.3f}-{max(own):.3f} from their own item (nearest item: "
          f"{int(sum(nearest[n] == i for n, (i, _) in enumerate(REAL_PARAPHRASES)))} of "
          f"{len(own)}); {len(questions)} FAQ questions at most {best.max():.3f} from their "
          f"nearest AlpacaEval instruction ({int((best >= 0.75).sum())} at or above 0.75)")


if __name__ == "__main__":
    main()
