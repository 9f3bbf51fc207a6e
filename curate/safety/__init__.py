"""Toxicity scorers, the identity-term lexicon and the bias audit behind the ``safety.*`` stages."""
