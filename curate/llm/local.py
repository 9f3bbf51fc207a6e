"""The ``local`` backend: a Hugging Face causal LM in this process (the packaged SmolLM2 by
default), batched generation with left padding, prompts of similar length batched together.

Sampling with a seed: every request draws from its own random stream, seeded from its seed
and prompt (:mod:`curate.llm.sampling`), so its reply does not depend on the batch it is in or
on the engine that batched it; the cache key holds the seed.
"""

from __future__ import annotations

import threading
from typing import Callable, Iterator

from .models import PACKAGED, model_version, resolve_model
from .requests import Request, Response

_LOAD_LOCK = threading.Lock()


def pick_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class LocalBackend:
    """``model``: ``smollm2-135m-instruct`` (the packaged model) or a local HF folder."""

    name = "local"
    supports_schema = False

    def __init__(self, model: str = PACKAGED, *, batch_size: int = 8, device: str = "auto"):
        self.model, self.batch_size, self.device = model, batch_size, device
        self.model_id = model_version(model)
        self._tokenizer = self._model = None
        self._device = device

    def describe(self) -> dict:
        return {"backend": self.name, "model": self.model, "weights": self.model_id,
                "device": self.device}

    def load(self):
        with _LOAD_LOCK:
            if self._model is None:
                from transformers import AutoModelForCausalLM

                folder = resolve_model(self.model)
                tokenizer = self.tokenizer()
                self._device = pick_device(self.device)
                model = AutoModelForCausalLM.from_pretrained(folder).to(self._device)
                model.eval()
                self._tokenizer, self._model = tokenizer, model
        return self._tokenizer, self._model

    def render(self, request: Request) -> str:
        return self.tokenizer().apply_chat_template(request.message_dicts(), tokenize=False,
                                             add_generation_prompt=True)

    def tokenizer(self):
        """The tokenizer alone (a dry run needs no model)."""
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(resolve_model(self.model))
            tokenizer.padding_side = "left"
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            self._tokenizer = tokenizer
        return self._tokenizer

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer()(text, add_special_tokens=False).input_ids)

    def complete(self, requests: list[Request], may_send: Callable[[], bool]
                 ) -> Iterator[tuple[int, Response]]:
        """``(index, response)`` for every request, batch by batch; once ``may_send()`` says
        no, the rest come back ``not_sent``."""
        if not requests:
            return
        tokenizer, _ = self.load()
        texts = [self.render(r) for r in requests]
        lengths = [len(tokenizer(t, add_special_tokens=False).input_ids) for t in texts]
        order = sorted(range(len(requests)), key=lambda i: (requests[i].sampling, lengths[i]))
        batches: list[list[int]] = []
        for i in order:
            last = batches[-1] if batches else None
            if (last and len(last) < self.batch_size
                    and requests[last[0]].sampling == requests[i].sampling):
                last.append(i)
            else:
                batches.append([i])
        stopped = False
        for batch in batches:
            stopped = stopped or not may_send()
            if stopped:
                for i in batch:
                    yield i, Response(not_sent=True)
                continue
            yield from zip(batch, self._generate([texts[i] for i in batch],
                                                 requests[batch[0]].sampling))

    def _generate(self, texts: list[str], sampling) -> list[Response]:
        import torch

        tokenizer, model = self.load()
        enc = tokenizer(texts, return_tensors="pt", padding=True,
                        add_special_tokens=False).to(self._device)
        kwargs = {"max_new_tokens": sampling.max_tokens, "pad_token_id": tokenizer.pad_token_id,
                  "do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        if sampling.temperature > 0:
            from transformers import LogitsProcessorList

            from .sampling import RowSampler, row_seed  # torch

            sampler = RowSampler([row_seed(sampling.seed, t) for t in texts],
                                 temperature=sampling.temperature, top_p=sampling.top_p)
            kwargs["logits_processor"] = LogitsProcessorList([sampler])
        try:
            with torch.no_grad():
                out = model.generate(**enc, **kwargs)
        except Exception as exc:  # a model error fails this batch's requests, not the run
            # (out of memory, a device error: the machine's state, not an answer to cache)
            return [Response(error=f"{type(exc).__name__}: {exc}", transient=True)
                    for _ in texts]
        width = enc.input_ids.shape[1]
        eos = {tokenizer.eos_token_id, tokenizer.pad_token_id}
        responses = []
        for row, mask in zip(out, enc.attention_mask):
            new = row[width:].tolist()
            n = next((k for k, t in enumerate(new) if t in eos), None)
            done = n is not None
            new = new[:n] if done else new
            responses.append(Response(
                text=tokenizer.decode(new, skip_special_tokens=True).strip(),
                prompt_tokens=int(mask.sum()), completion_tokens=len(new) + int(done),
                finish_reason="stop" if done else "length"))
        return responses
