"""Likelihoods from a causal language model (``quality.ifd``): the model held for scoring
(:mod:`.model`), the token sequences an IFD or grounding score compares (:mod:`.texts`), and
their batched mean negative log-likelihoods (:mod:`.nll`). Nothing heavy is imported here:
torch and transformers load when a model is first used."""
