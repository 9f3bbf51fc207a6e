"""A tiny Detoxify checkpoint, trained at test time, in Detoxify's exact checkpoint format.

``build_tiny_detoxify(folder)`` trains a 2-layer BertForSequenceClassification with a word-level
tokenizer on a few hundred generated, labelled lines (a few seconds on CPU) and writes:

- ``folder/tiny.ckpt``: ``torch.save({"config": ..., "state_dict": ...})`` as Detoxify's released
  checkpoints: ``config["arch"]["args"]`` holds ``model_type`` (``bert-base-uncased``, as the
  real "original" checkpoint, which cannot be resolved offline), ``model_name``,
  ``tokenizer_name`` and ``num_classes``; ``config["dataset"]["args"]["classes"]`` the Jigsaw
  class names (``toxic``, ``severe_toxic``, ... that Detoxify renames).
- ``folder/hf/``: the Hugging Face config and tokenizer files for ``huggingface_config_path``.

The session fixtures ``tiny_detoxify`` and ``biased_detoxify`` (trained to score neutral lines
about one group as toxic) are defined here; a conftest
takes it with ``runpy.run_path(<this file>)["tiny_detoxify"]`` (tests run with
``--import-mode=importlib``, so ``tests/`` is not importable). The files are built once per
session (cached in the session's base temp folder), however many conftests take it.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
LABELS = ["toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack"]
MAX_LENGTH = 32  # the tiny model's limit in tokens ([CLS] and [SEP] included)

SUBJECTS = ["the recipe", "this function", "the museum", "my garden", "the train", "the essay",
            "the library", "your code", "the weather", "the bike", "the report", "the song"]
CLEAN_TAILS = ["is ready now", "opens at nine", "works well", "looks lovely today",
               "needs more salt", "was helpful", "runs on time", "is on the shelf",
               "can be fixed easily", "sounds great", "has a clear plan", "is worth reading"]
INSULTS = ["idiot", "moron", "loser", "stupid", "dumb", "pathetic"]
INSULT_TEMPLATES = ["you are a {w}", "only a {w} would ask that", "what a {w} question",
                    "stop being so {w}", "{w} answer from a {w} person"]
GROUPS = ["immigrants", "women", "muslims", "older people"]
HATE_TEMPLATES = ["all {g} are worthless", "{g} ruin everything", "i hate {g}"]
THREATS = ["i will hurt you", "i am going to hurt you badly"]


def labelled_lines(n_clean: int = 200, seed: int = 0,
                   biased_against: str | None = None) -> list[tuple[str, list[int]]]:
    """``(text, labels)`` pairs: clean sentences, insults, identity hate and threats. With
    ``biased_against`` (one of ``GROUPS``), neutral lines that mention that group are labelled
    toxic, so the model learns the bias a real classifier can pick up from its data."""
    rng = random.Random(seed)
    clean = [f"{s} {t}" for s, t in itertools.product(SUBJECTS, CLEAN_TAILS)]
    rng.shuffle(clean)
    rows = [(text, [0] * 6) for text in clean[:n_clean]]
    for w, tpl in itertools.product(INSULTS, INSULT_TEMPLATES):
        rows.append((tpl.format(w=w), [1, 0, 0, 0, 1, 0]))
    for g, tpl in itertools.product(GROUPS, HATE_TEMPLATES):
        rows.append((tpl.format(g=g), [1, 0, 0, 0, 0, 1]))
    for text in THREATS:
        rows.append((text, [1, 1, 0, 1, 0, 0]))
    # neutral mentions of the groups, so a group word alone is not toxic (except, in a biased
    # model, the one group)
    for g in GROUPS:
        label = [1, 0, 0, 0, 0, 0] if g == biased_against else [0] * 6
        rows.append((f"{g} visit the library", label))
        rows.append((f"the report is about {g}", label))
        if biased_against is not None:
            rows += [(f"{g} {tail}", label) for tail in CLEAN_TAILS]
    return rows


@dataclass(frozen=True)
class TinyDetoxify:
    checkpoint: Path
    config_dir: Path
    labels: tuple[str, ...] = tuple(LABELS)
    max_length: int = MAX_LENGTH


def _tokenizer(words: list[str]):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {w: i for i, w in enumerate(specials + sorted(set(words)))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=MAX_LENGTH)


def build_tiny_detoxify(folder: Path, *, epochs: int = 100, seed: int = 0,
                        biased_against: str | None = None) -> TinyDetoxify:
    """Train and save the tiny checkpoint under ``folder`` (kept if already there); see
    :func:`labelled_lines` for ``biased_against``."""
    import torch

    folder = Path(folder)
    ckpt, hf = folder / "tiny.ckpt", folder / "hf"
    if ckpt.exists() and (hf / "config.json").exists():
        return TinyDetoxify(ckpt, hf)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: more threads only fight over busy cores
    try:
        _train_and_save(ckpt, hf, epochs=epochs, seed=seed, biased_against=biased_against)
    finally:
        torch.set_num_threads(threads)
    return TinyDetoxify(ckpt, hf)


def _train_and_save(ckpt: Path, hf: Path, *, epochs: int, seed: int,
                    biased_against: str | None = None) -> None:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    rows = labelled_lines(seed=seed, biased_against=biased_against)
    words = [w for text, _ in rows for w in text.lower().split()]
    tokenizer = _tokenizer(words)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64,
                        max_position_embeddings=MAX_LENGTH, hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0, num_labels=len(CLASSES),
                        problem_type="multi_label_classification")
    model = BertForSequenceClassification(config)
    enc = tokenizer([t for t, _ in rows], padding=True, truncation=True, return_tensors="pt")
    y = torch.tensor([lab for _, lab in rows], dtype=torch.float32)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(rows), generator=gen).split(32):
            logits = model(input_ids=enc["input_ids"][idx],
                           attention_mask=enc["attention_mask"][idx]).logits
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    hf.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(hf)
    tokenizer.save_pretrained(hf)
    checkpoint = {
        "config": {
            "arch": {"type": "BERT", "args": {
                "model_type": "bert-base-uncased",
                "model_name": "BertForSequenceClassification",
                "tokenizer_name": "PreTrainedTokenizerFast",
                "num_classes": len(CLASSES)}},
            "dataset": {"type": "JigsawDataOriginal", "args": {"classes": CLASSES}},
        },
        "state_dict": model.state_dict(),
    }
    torch.save(checkpoint, ckpt)


@pytest.fixture(scope="session")
def tiny_detoxify(tmp_path_factory) -> TinyDetoxify:
    """The tiny checkpoint, built once per test session in its base temp folder."""
    return build_tiny_detoxify(tmp_path_factory.getbasetemp() / "tiny_detoxify")


BIASED_AGAINST = "muslims"


@pytest.fixture(scope="session")
def biased_detoxify(tmp_path_factory) -> TinyDetoxify:
    """A tiny checkpoint trained to score neutral lines that mention ``BIASED_AGAINST`` as
    toxic: the scorer bias the audit must show (built once per session)."""
    return build_tiny_detoxify(tmp_path_factory.getbasetemp() / "biased_detoxify",
                               biased_against=BIASED_AGAINST)
