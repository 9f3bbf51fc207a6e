"""A tiny causal language model, trained at test time, saved as a Hugging Face folder.

``build_tiny_lm(folder)`` trains a 2-layer LlamaForCausalLM (hidden size 32) with a word-level
tokenizer and a ChatML chat template on the question/answer pairs of :data:`QA` (a few seconds
on CPU), so that a reply is much easier to predict after its own question than after another
one, and writes the folder (``config.json``, weights, tokenizer with its chat template): the
shape of any local causal-LM folder ``quality.ifd`` takes. Scores from it are not the packaged
model's; tests assert what holds for any such model (orderings, batch independence, caching).

The session fixture ``tiny_lm`` builds it once per session (in the session's base temp
folder); a conftest takes it with ``runpy.run_path(<this file>)["tiny_lm"]``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

QA = [
    ("what colour is the sky", "the sky is blue on a clear day"),
    ("how many legs does a spider have", "a spider has eight legs"),
    ("what do bees make", "bees make honey from the nectar of flowers"),
    ("where does the rhine end", "the rhine ends in the north sea"),
    ("what do you need to bake bread", "you need flour water salt and yeast to bake bread"),
    ("how do you boil an egg", "put the egg in boiling water for eight minutes"),
    ("what is the capital of france", "the capital of france is paris"),
    ("why do leaves fall in autumn", "trees drop their leaves to save water in winter"),
    ("what does a compiler do", "a compiler turns source code into machine code"),
    ("how far is the moon", "the moon is about four hundred thousand kilometres away"),
]
PASSAGE_WORDS = "the passage says that rivers carry water to the sea and bees visit flowers"
SPECIALS = ["<pad>", "<unk>", "<|im_start|>", "<|im_end|>"]
CHATML = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + "
          "'<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}"
          "{{ '<|im_start|>assistant\n' }}{% endif %}")


def _tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = {w for q, a in QA for w in f"{q} {a}".split()} | set(PASSAGE_WORDS.split())
    words |= {"system", "user", "assistant", "?", ".", ",", "\n"}
    vocab = {w: i for i, w in enumerate(SPECIALS + sorted(words))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                   bos_token="<|im_start|>", eos_token="<|im_end|>",
                                   additional_special_tokens=["<|im_start|>", "<|im_end|>"])
    fast.chat_template = CHATML
    return fast


def build_tiny_lm(folder: Path, *, steps: int = 150, seed: int = 0) -> Path:
    """Train and save the tiny model under ``folder`` (kept if already there)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    if (folder / "config.json").exists():
        return folder
    tokenizer = _tokenizer()
    texts = [tokenizer.apply_chat_template(
        [{"role": "user", "content": q}, {"role": "assistant", "content": a}], tokenize=False)
        for q, a in QA]
    enc = tokenizer(texts, padding=True, return_tensors="pt", add_special_tokens=False)
    labels = enc.input_ids.masked_fill(enc.attention_mask == 0, -100)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=256, tie_word_embeddings=True,
                         pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id)
    model = LlamaForCausalLM(config)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: more threads only fight over busy cores
    try:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
        model.train()
        for _ in range(steps):
            loss = model(input_ids=enc.input_ids, attention_mask=enc.attention_mask,
                         labels=labels).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory) -> Path:
    """The tiny model's folder, built once per test session in its base temp folder."""
    return build_tiny_lm(tmp_path_factory.getbasetemp() / "tiny_lm")
