"""A causal language model held for scoring likelihoods: the packaged SmolLM2-135M-Instruct
by default, any local Hugging Face causal-LM folder, or a GGUF file (dequantised once into a
plain folder under the cache, as the packaged model is; see :mod:`curate.llm.models`).

Weights are float32 on every device, so that scores do not depend on a CPU's bfloat16 support;
nothing is downloaded at run time.
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

import numpy as np

from ..errors import CurateError
from ..llm.models import model_version, resolve_model

_LOAD_LOCK = threading.Lock()
_HEAD_CHUNK = 512  # positions per vocabulary projection (x 49k vocabulary x 4 bytes: 100 MB)


def pick_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class LanguageModel:
    """``name``: ``smollm2-135m-instruct`` (packaged), a local HF folder or a ``.gguf`` file.

    ``batch_tokens``: the most padded tokens per forward pass. Scoring is prefill, compute
    bound on a CPU: there a sequence costs the same alone or in a batch of 4, and more in
    larger batches (their activations leave the caches), so CPU batches stay small (measured
    in benchmarks/README.md); a GPU gains from wide batches."""

    def __init__(self, name: str, device: str = "auto"):
        self.name, self.device = name, pick_device(device)
        self.batch_tokens = 1024 if self.device == "cpu" else 16_384
        self.version = model_version(name)
        self._tokenizer = self._model = None
        self.sequences_scored = 0
        self._count_lock = threading.Lock()

    def workers(self) -> int:
        """Forward passes run at once: on a CPU as many single-threaded workers as torch has
        threads (see :func:`curate.likelihood.nll.token_nll`), on a GPU one."""
        if self.device != "cpu":
            return 1
        import torch

        return max(1, torch.get_num_threads())

    # -- loading --------------------------------------------------------------------------
    def tokenizer(self):
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(resolve_model(self.name))
        return self._tokenizer

    def model(self):
        with _LOAD_LOCK:
            if self._model is None:
                import torch
                from transformers import AutoModelForCausalLM
                from transformers.utils import logging as hf_logging

                folder = resolve_model(self.name)
                bar_was_on = hf_logging.is_progress_bar_enabled()
                hf_logging.disable_progress_bar()
                try:
                    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
                except (OSError, ValueError) as exc:
                    raise CurateError(f"cannot load causal LM {self.name!r} from {folder}: "
                                      f"{exc}") from None
                finally:
                    if bar_was_on:
                        hf_logging.enable_progress_bar()
                self._model = model.to(self.device).eval()
        return self._model

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "weights": self.version, "device": self.device,
                "dtype": "float32"}

    # -- scoring --------------------------------------------------------------------------
    def _split_head(self):
        """(body, head) where ``head(body(ids).last_hidden_state)`` are the logits, or None
        for a model that changes its logits after the projection (soft-capping, scaling)."""
        model = self.model()
        config = model.config
        if getattr(config, "final_logit_softcapping", None) or getattr(config, "logit_scale",
                                                                       None):
            return None
        head = model.get_output_embeddings()
        body = getattr(model, "base_model", None)
        if head is None or body is None or body is model:
            return None
        return body, head

    def batch_nll(self, batch: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[float]:
        """Mean NLL of each ``(context, target)``'s target tokens, in one forward pass."""
        return [float(t.mean()) for t in self.batch_token_nll(batch)]

    def batch_token_nll(self, batch: Sequence[tuple[Sequence[int], Sequence[int]]]
                        ) -> list[np.ndarray]:
        """NLL of each target token of each ``(context, target)`` (float64 arrays), in one
        forward pass."""
        import torch

        model = self.model()
        pad = self.tokenizer().pad_token_id
        pad = 0 if pad is None else pad
        width = max(len(c) + len(t) for c, t in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        rows, cols, targets = [], [], []
        for j, (context, target) in enumerate(batch):
            seq = list(context) + list(target)
            ids[j, :len(seq)] = torch.tensor(seq)
            mask[j, :len(seq)] = 1
            start = len(context) - 1  # the position whose logits predict the first target
            rows += [j] * len(target)
            cols += range(start, start + len(target))
            targets += list(target)
        with torch.inference_mode():
            ids, mask = ids.to(self.device), mask.to(self.device)
            at = (torch.tensor(rows, device=self.device), torch.tensor(cols, device=self.device))
            split = self._split_head()
            if split is not None:
                body, head = split
                hidden = body(input_ids=ids, attention_mask=mask,
                              use_cache=False).last_hidden_state
                picked = hidden[at]
                nll = torch.cat([_token_nll(head(picked[s:s + _HEAD_CHUNK]),
                                            targets[s:s + _HEAD_CHUNK], self.device)
                                 for s in range(0, len(targets), _HEAD_CHUNK)])
            else:
                logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
                nll = _token_nll(logits[at], targets, self.device)
        flat = nll.double().cpu().numpy()
        with self._count_lock:
            self.sequences_scored += len(batch)
        bounds = np.cumsum([0] + [len(t) for _, t in batch])
        return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _token_nll(logits, targets: Sequence[int], device: str):
    import torch

    logits = logits.float()
    target = torch.tensor(targets, device=device).unsqueeze(1)
    return torch.logsumexp(logits, dim=-1) - logits.gather(1, target).squeeze(1)
