"""Sampling whose draws belong to each request, not to the batch it happens to be in.

``model.generate(do_sample=True)`` draws every row's token from one global random stream, so
a request's sample depends on which other requests share its batch — and a Ray actor pool
batches a block's rows, not the whole run's. Here each row gets its own ``torch.Generator``
seeded from the request (its seed and text), and picks its token by the Gumbel-max trick
(``argmax(logits / T + Gumbel noise)`` is a draw from ``softmax(logits / T)``) after the top-p
cut; ``generate`` then runs greedy over the perturbed scores. The same request gives the same
reply in any batch, on any engine (up to float differences between padded batches).

Examples:
    >>> import torch
    >>> rows = RowSampler([1, 1], temperature=0.8, top_p=1.0)
    >>> scores = torch.log(torch.tensor([[0.5, 0.3, 0.2], [0.5, 0.3, 0.2]]))
    >>> a = rows(None, scores.clone()).argmax(-1)
    >>> bool(a[0] == a[1])  # same seed, same scores: the same draw
    True
"""

from __future__ import annotations

import zlib

import torch


def row_seed(seed: int, text: str) -> int:
    """The seed of one request's random stream: its sampling seed and its prompt."""
    return zlib.crc32(f"{seed}\x00{text}".encode("utf-8")) & 0x7FFFFFFF


class RowSampler:
    """A ``LogitsProcessor`` that turns greedy decoding into per-row seeded sampling."""

    def __init__(self, seeds: list[int], *, temperature: float, top_p: float):
        self.generators = [torch.Generator().manual_seed(s) for s in seeds]
        self.temperature, self.top_p = temperature, top_p

    def __call__(self, input_ids, scores: torch.Tensor) -> torch.Tensor:
        scores = scores.float() / self.temperature
        if self.top_p < 1.0:
            ordered, index = scores.sort(dim=-1, descending=True)
            cumulative = ordered.softmax(dim=-1).cumsum(dim=-1)
            cut = cumulative - ordered.softmax(dim=-1) >= self.top_p  # keeps the top token
            scores = scores.scatter(-1, index, ordered.masked_fill(cut, float("-inf")))
        uniform = torch.stack([torch.rand(scores.shape[-1], generator=g)
                               for g in self.generators]).to(scores.device)
        gumbel = -torch.log(-torch.log(uniform.clamp_min(1e-20)))
        return scores + gumbel
