"""Mixtures of named inputs by quotas in records or tokens (the algorithm behind the ``mix``
stage): :mod:`curate.mix.draw` decides from compact arrays, :mod:`curate.mix.tokens` counts
tokens with a local tokenizer."""

from .draw import Draw, draw_mixture, quota_problem, target_of

__all__ = ["Draw", "draw_mixture", "quota_problem", "target_of"]
