"""Toxicity scorers: the real ``detoxify.Detoxify`` class, and ``alt-profanity-check`` offline.

    spec = resolve_scorer(model="auto", checkpoint=None, config=None)   # cheap: which scorer
    scorer = load_scorer(spec)                                          # loaded once per process
    scores = score_texts(scorer, texts, batch_size=32)                  # {label: np.ndarray}

``model="auto"`` runs Detoxify's ``original`` model where its weights are cached or can be
fetched, and ``alt-profanity-check`` (which ships its trained model) otherwise; the spec says
which ran and why. Asking for a Detoxify model explicitly when its weights cannot be had is a
:class:`~curate.errors.CurateError`, never a silent fallback.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ..errors import CurateError
from ..progress import bar

PROFANITY = "profanity-check"
AUTO = "auto"
# Detoxify model type -> the Hugging Face model its config and tokenizer come from.
DETOXIFY_BASES = {
    "original": "bert-base-uncased",
    "unbiased": "roberta-base",
    "multilingual": "xlm-roberta-base",
    "original-small": "albert-base-v2",
    "unbiased-small": "albert-base-v2",
}
MODELS = (AUTO, *DETOXIFY_BASES, PROFANITY)
# The default thresholds (``auto``) of safety.toxicity and safety.bias per scorer: a lexical
# model's scores are not Detoxify's. profanity-check's were measured on benign real corpora
# and generated benign texts (benchmarks/safety_defaults.py, benchmarks/README.md); Detoxify's
# are its authors' usual 0.5, with the lower 0.25 for toxic talk about a group.
DEFAULT_THRESHOLDS: dict[str, dict[str, float | None]] = {
    "detoxify": {"max": 0.5, "group_toxicity_max": 0.25, "identity_attack_max": 0.5},
    PROFANITY: {"max": 0.9, "group_toxicity_max": 0.8, "identity_attack_max": None},
}
_TRUE = ("1", "true", "yes", "on")


def offline() -> bool:
    """Whether the environment forbids downloads (``HF_HUB_OFFLINE`` or ``CURATE_OFFLINE``)."""
    return any(os.environ.get(v, "").lower() in _TRUE for v in ("HF_HUB_OFFLINE", "CURATE_OFFLINE"))


@dataclass(frozen=True)
class ScorerSpec:
    """Which scorer runs: ``kind`` is ``detoxify`` or ``profanity-check``."""

    kind: str
    model: str | None = None          # a Detoxify model type, or None for a checkpoint
    checkpoint: str | None = None
    config: str | None = None
    fallback_reason: str | None = field(default=None, compare=False)

    def key(self) -> list[Any]:
        """What the scores depend on (the checkpoint file's size and mtime included)."""
        stamp = None
        if self.checkpoint:
            st = Path(self.checkpoint).stat()
            stamp = [st.st_size, st.st_mtime_ns]
        return [self.kind, self.model, self.checkpoint, stamp, self.config]


def scorer_of_columns(columns) -> str:
    """Which scorer wrote a frame's toxicity scores, told by its label columns: profanity-check
    has the one label ``profanity``; anything else is read on Detoxify's scale."""
    return PROFANITY if "tox_profanity" in columns else "detoxify"


def default_threshold(scorer: str, name: str) -> float | None:
    """The ``auto`` value of threshold ``name`` for ``scorer`` (``detoxify`` or
    ``profanity-check``)."""
    return DEFAULT_THRESHOLDS[scorer][name]


def _hub_file(model_type: str) -> Path:
    import torch  # startup
    from detoxify.detoxify import MODEL_URLS

    name = Path(urlparse(MODEL_URLS[model_type]).path).name
    return Path(torch.hub.get_dir()) / "checkpoints" / name


def _base_cached(name: str) -> bool:
    from huggingface_hub import try_to_load_from_cache  # startup

    return isinstance(try_to_load_from_cache(name, "config.json"), str)


def detoxify_cached(model_type: str) -> bool:
    """Whether a Detoxify model's checkpoint and its base model's files are cached locally."""
    return _hub_file(model_type).is_file() and _base_cached(DETOXIFY_BASES[model_type])


def fetch_detoxify(model_type: str) -> None:
    """Download a Detoxify model's checkpoint (torch hub cache) and its base model's config and
    tokenizer files (Hugging Face cache); raises CurateError where they cannot be had."""
    if detoxify_cached(model_type):
        return
    from detoxify.detoxify import MODEL_URLS  # startup

    base = DETOXIFY_BASES[model_type]
    where = (f"the checkpoint {MODEL_URLS[model_type]} and the config and tokenizer of {base}")
    if offline():
        raise CurateError(
            f"Detoxify model {model_type!r} needs {where}, which are not cached, and downloads "
            f"are off (HF_HUB_OFFLINE/CURATE_OFFLINE). Give a local checkpoint "
            f"(--toxicity-checkpoint CKPT --toxicity-config DIR), or use model 'auto' or "
            f"{PROFANITY!r} for the offline scorer")
    try:
        import torch  # startup
        from huggingface_hub import snapshot_download

        target = _hub_file(model_type)
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(MODEL_URLS[model_type], str(target), progress=False)
        snapshot_download(base, allow_patterns=["*.json", "*.txt", "*.model"])
    except Exception as exc:  # network errors come in many types (URLError, HTTPError, OSError)
        raise CurateError(
            f"Detoxify model {model_type!r}: cannot download {where}: {exc}. Give a local "
            f"checkpoint (--toxicity-checkpoint CKPT --toxicity-config DIR), or use model "
            f"'auto' or {PROFANITY!r} for the offline scorer") from None


def resolve_scorer(model: str = AUTO, checkpoint: str | None = None,
                   config: str | None = None) -> ScorerSpec:
    """Which scorer runs for these options (downloads Detoxify's files where asked to)."""
    if checkpoint is not None:
        if not Path(checkpoint).is_file():
            raise CurateError(f"toxicity checkpoint {checkpoint}: no such file")
        if config is not None and not Path(config).is_dir():
            raise CurateError(f"toxicity config {config}: not a folder (expected the Hugging "
                              f"Face config.json and tokenizer files of the checkpoint's model)")
        return ScorerSpec("detoxify", None, str(Path(checkpoint).resolve()),
                          str(Path(config).resolve()) if config else None)
    if config is not None:
        raise CurateError("a toxicity config folder is only used with a checkpoint "
                          "(--toxicity-checkpoint CKPT --toxicity-config DIR)")
    if model == PROFANITY:
        return ScorerSpec(PROFANITY)
    if model == AUTO:
        try:
            fetch_detoxify("original")
        except CurateError as exc:
            return ScorerSpec(PROFANITY, fallback_reason=str(exc))
        return ScorerSpec("detoxify", "original")
    if model not in DETOXIFY_BASES:
        raise CurateError(f"unknown toxicity model {model!r} (known: {', '.join(MODELS)})")
    fetch_detoxify(model)
    return ScorerSpec("detoxify", model)


class DetoxifyScorer:
    """Scores texts with a ``detoxify.Detoxify`` model, truncated to the model's limit."""

    def __init__(self, spec: ScorerSpec, device: str = "cpu"):
        from detoxify import Detoxify  # startup

        self.spec = spec
        try:
            if spec.checkpoint is None:
                self.detox = Detoxify(model_type=spec.model, device=device)
            else:
                self.detox = Detoxify(checkpoint=_checkpoint_source(spec),
                                      huggingface_config_path=spec.config, device=device)
        except CurateError:
            raise
        except Exception as exc:  # torch/transformers raise many types for a bad checkpoint
            what = spec.checkpoint or f"model {spec.model!r}"
            raise CurateError(f"cannot load Detoxify {what}: {type(exc).__name__}: {exc}") from None
        self.labels = tuple(self.detox.class_names)
        self.max_length = _limit(self.detox)
        self.detox.tokenizer.model_max_length = self.max_length
        self.texts_scored = 0

    def predict(self, texts: list[str]) -> dict[str, np.ndarray]:
        out = self.detox.predict(texts)
        self.texts_scored += len(texts)
        return {label: np.atleast_1d(np.asarray(out[label], dtype=np.float64))
                for label in self.labels}


class ProfanityScorer:
    """``alt-profanity-check``: a linear model over word n-grams that ships with its package."""

    labels = ("profanity",)
    max_length = None

    def __init__(self, spec: ScorerSpec):
        from profanity_check import predict_prob  # startup

        self.spec, self._predict, self.texts_scored = spec, predict_prob, 0

    def predict(self, texts: list[str]) -> dict[str, np.ndarray]:
        self.texts_scored += len(texts)
        return {"profanity": np.asarray(self._predict(texts), dtype=np.float64)}


def describe(spec: ScorerSpec, scorer=None) -> dict[str, Any]:
    """Which scorer ran, its package version and model (for the manifest and the report);
    with the loaded ``scorer`` (or a worker's ``{"labels", "max_length"}``), also its labels
    and token limit."""
    if spec.kind == PROFANITY:
        out = {"scorer": PROFANITY, "version": metadata.version("alt-profanity-check"),
               "model": PROFANITY}
        if spec.fallback_reason:
            out["fallback_reason"] = spec.fallback_reason
    else:
        out = {"scorer": "detoxify", "version": metadata.version("detoxify"),
               "model": spec.model or "checkpoint"}
        if spec.checkpoint:
            out.update(checkpoint=spec.checkpoint, config=spec.config)
    if isinstance(scorer, dict):  # as a worker described it
        out.update(labels=list(scorer["labels"]), max_length=scorer["max_length"])
    elif scorer is not None:
        out.update(labels=list(scorer.labels), max_length=scorer.max_length)
    return out


def _checkpoint_source(spec: ScorerSpec):
    """The checkpoint as Detoxify should read it. Detoxify reads the base model's config by the
    name in the checkpoint (``bert-base-uncased``...) even when given a config folder; where that
    name is neither a folder nor cached, the config folder takes its place (same weights, same
    classes). The file is read with ``weights_only=True`` (a checkpoint that needs code to
    unpickle is refused) and handed to Detoxify as an in-memory copy."""
    import torch  # startup

    try:
        # a Detoxify checkpoint is dicts, strings, numbers and tensors: no code is unpickled
        loaded = torch.load(spec.checkpoint, map_location="cpu", weights_only=True, mmap=True)
        args = loaded["config"]["arch"]["args"]
        name = args["model_type"]
    except Exception as exc:
        raise CurateError(f"toxicity checkpoint {spec.checkpoint}: not a Detoxify checkpoint "
                          f"(a dict with config.arch.args.model_type and state_dict): "
                          f"{type(exc).__name__}: {exc}") from None
    if not (spec.config is None or Path(name).is_dir() or _base_cached(name)):
        args["model_type"] = spec.config
    # Detoxify unpickles with weights_only=False: it gets the checked copy, never the file
    buf = io.BytesIO()
    torch.save(loaded, buf)
    buf.seek(0)
    return buf


def _limit(detox) -> int:
    """Tokens the model takes: its position embeddings (RoBERTa-style models keep two for the
    padding offset), and the tokenizer's own limit where lower."""
    config = detox.model.config
    limit = getattr(config, "max_position_embeddings", None) or 512
    if "roberta" in (config.model_type or ""):
        limit -= 2
    return int(min(limit, detox.tokenizer.model_max_length or limit))


def load_scorer(spec: ScorerSpec, device: str = "cpu"):
    """The scorer for ``spec``, loaded once per process (a checkpoint again once its file
    changes)."""
    return _load(spec, device, json.dumps(spec.key()))


@lru_cache(maxsize=4)
def _load(spec: ScorerSpec, device: str, key: str):
    if spec.kind == PROFANITY:
        return ProfanityScorer(spec)
    return DetoxifyScorer(spec, device)


def score_texts(scorer, texts: list[str], *, batch_size: int = 32,
                desc: str = "toxicity") -> dict[str, np.ndarray]:
    """Scores of ``texts`` per label. Identical texts are scored once; the others in batches of
    similar length (longest first), so that little padding is computed."""
    unique, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    order = np.argsort([-len(t) for t in unique], kind="stable")
    out = {label: np.zeros(len(unique)) for label in scorer.labels}
    with bar(total=len(unique), desc=desc, unit="texts") as progress:
        for start in range(0, len(unique), batch_size):
            idx = order[start:start + batch_size]
            scores = scorer.predict([str(unique[i]) for i in idx])
            for label in scorer.labels:
                out[label][idx] = scores[label]
            progress.update(len(idx))
    return {label: values[inverse.reshape(-1)] for label, values in out.items()}
