"""Toxicity scoring speed: Detoxify's architectures at their real sizes, on 2 CPU cores.

Detoxify's weights cannot be downloaded here, so each architecture is built with random
weights from its published hyperparameters (written below as constants: the configs of
bert-base-uncased, roberta-base, xlm-roberta-base and albert-base-v2), saved in Detoxify's
checkpoint format with a word-level tokenizer of the model's vocabulary size, and loaded through
the real ``detoxify.Detoxify`` class (curate's scorer). Three paths on the same texts:

- ``default``: ``Detoxify.predict`` on batches in input order (what Detoxify's own API does);
- ``sorted``: curate's ``score_texts``: identical texts once, batches of similar length;
- ``sorted+bf16``: the same under ``torch.autocast("cpu", dtype=torch.bfloat16)``.

Prints texts/s, the speed-up over ``default`` and the largest score difference from float32,
and names the fastest path whose scores stay within 1e-3 of float32. The texts are real model
outputs (alpaca_eval, ../shared/data) and the demo corpus' replies: long and short mixed.
Absolute numbers are noisy on a shared machine; compare within one run.

    .venv/bin/python benchmarks/toxicity.py [--n 64] [--batch-size 32] [--models original,unbiased]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Other benchmark scripts here (select.py) shadow standard modules when this folder is first
# on sys.path: import from the repository root instead.
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from curate.safety import scorers  # noqa: E402

_BASE = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
             intermediate_size=3072, hidden_act="gelu")
# Detoxify model type -> (transformers classes, config hyperparameters, number of outputs)
ARCHS = {
    "original": ("BertForSequenceClassification", "BertConfig", 6, dict(
        _BASE, vocab_size=30522, max_position_embeddings=512, type_vocab_size=2,
        layer_norm_eps=1e-12, pad_token_id=0)),
    "unbiased": ("RobertaForSequenceClassification", "RobertaConfig", 16, dict(
        _BASE, vocab_size=50265, max_position_embeddings=514, type_vocab_size=1,
        layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2)),
    "multilingual": ("XLMRobertaForSequenceClassification", "XLMRobertaConfig", 16, dict(
        _BASE, vocab_size=250002, max_position_embeddings=514, type_vocab_size=1,
        layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2)),
    "original-small": ("AlbertForSequenceClassification", "AlbertConfig", 6, dict(
        _BASE, vocab_size=30000, embedding_size=128, num_hidden_groups=1, inner_group_num=1,
        hidden_act="gelu_new", max_position_embeddings=512, type_vocab_size=2,
        layer_norm_eps=1e-12, pad_token_id=0)),
}
CLASSES = {6: ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"],
           16: ["toxicity", "severe_toxicity", "obscene", "identity_attack", "insult",
                "threat", "sexual_explicit"]}


def load_texts(n: int, seed: int = 0) -> list[str]:
    texts = []
    shared = REPO.parent / "shared" / "data" / "alpaca_eval"
    for path in sorted(shared.glob("*.model_outputs.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            texts += [r["output"] for r in json.load(fh)]
    for path in sorted((REPO / "pipelines" / "data" / "demo").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            out = row.get("output") or (row.get("messages") or [{}])[-1].get("content")
            if isinstance(out, str):
                texts.append(out)
    random.Random(seed).shuffle(texts)
    return texts[:n]


def build(model_type: str, folder: Path, texts: list[str]):
    """A random-weight Detoxify checkpoint of ``model_type``'s architecture, and its scorer."""
    import transformers
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    model_name, config_name, n_out, hp = ARCHS[model_type]
    config = getattr(transformers, config_name)(num_labels=n_out, **hp)
    torch.manual_seed(0)
    model = getattr(transformers, model_name)(config).eval()
    specials = ["<pad>", "<unk>", "<s>", "</s>", "<mask>"]
    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", t.lower())})
    vocab = {w: i for i, w in enumerate(specials + words[:config.vocab_size - len(specials)])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 2), ("</s>", 3)])
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<s>",
        eos_token="</s>", mask_token="<mask>", model_max_length=512)
    fast.pad_token_id  # noqa: B018 - resolves the id once
    config.pad_token_id = vocab["<pad>"] if model_type in ("original", "original-small") else 1
    hf = folder / model_type
    config.save_pretrained(hf)
    fast.save_pretrained(hf)
    ckpt = folder / f"{model_type}.ckpt"
    torch.save({"config": {"arch": {"args": {
        "model_type": str(hf), "model_name": model_name,
        "tokenizer_name": "PreTrainedTokenizerFast", "num_classes": n_out}},
        "dataset": {"args": {"classes": CLASSES[n_out]}}},
        "state_dict": model.state_dict()}, ckpt)
    del model
    spec = scorers.resolve_scorer(checkpoint=str(ckpt), config=str(hf))
    return scorers.DetoxifyScorer(spec)


def run_default(scorer, texts, batch_size):
    out = []
    for start in range(0, len(texts), batch_size):
        res = scorer.detox.predict(texts[start:start + batch_size])
        out.append(np.column_stack([np.atleast_1d(res[c]) for c in scorer.labels]))
    return np.vstack(out)


def run_sorted(scorer, texts, batch_size, bf16=False):
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else torch.autocast("cpu", enabled=False)
    with ctx:
        res = scorers.score_texts(scorer, texts, batch_size=batch_size)
    return np.column_stack([res[c] for c in scorer.labels])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=64, help="texts per run")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--models", default=",".join(ARCHS))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    texts = load_texts(args.n)
    words = [len(t.split()) for t in texts]
    print(f"{len(texts)} texts, {np.mean(words):.0f} words on average (max {max(words)}), "
          f"batch {args.batch_size}, {args.threads} threads, torch {torch.__version__}")
    print(f"{'model':<16} {'path':<12} {'texts/s':>8} {'vs default':>10} {'max |diff|':>11}")
    best = {}
    with tempfile.TemporaryDirectory() as tmp:
        for model_type in args.models.split(","):
            scorer = build(model_type, Path(tmp), texts)
            run_default(scorer, texts[:4], args.batch_size)  # warm-up
            results = {}
            for name, fn in (("default", lambda: run_default(scorer, texts, args.batch_size)),
                             ("sorted", lambda: run_sorted(scorer, texts, args.batch_size)),
                             ("sorted+bf16", lambda: run_sorted(scorer, texts, args.batch_size,
                                                                bf16=True))):
                t0 = time.perf_counter()
                scores = fn()
                results[name] = (len(texts) / (time.perf_counter() - t0), scores)
            base_rate, base = results["default"]
            ok = []
            for name, (rate, scores) in results.items():
                diff = float(np.abs(scores - base).max())
                print(f"{model_type:<16} {name:<12} {rate:>8.2f} {rate / base_rate:>9.2f}x "
                      f"{diff:>11.2e}")
                if diff <= 1e-3:
                    ok.append((rate, name))
            best[model_type] = max(ok)[1]
            del scorer
    print("fastest path within 1e-3 of float32: "
          + ", ".join(f"{m}: {p}" for m, p in best.items()))


if __name__ == "__main__":
    main()
