"""Batched likelihoods: the same scores as one sequence at a time and as the plain
transformers loss, whatever the batch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from curate.likelihood.model import LanguageModel
from curate.likelihood.nll import _batches, mean_nll, token_nll
from curate.likelihood.texts import Tokens

from ..fixtures_lm import QA


@pytest.fixture(scope="module")
def lm(tiny_lm):
    return LanguageModel(str(tiny_lm), "cpu")


@pytest.fixture(scope="module")
def items(lm):
    tokens = Tokens(lm.tokenizer(), 64)
    out = []
    for i, (q, a) in enumerate(QA):
        context = tokens.context([{"role": "user", "content": q}])
        out += [(context, tokens.reply(a)), (tokens.alone(), tokens.reply(QA[i - 1][1]))]
    return out


def plain_loss(lm, context, target) -> float:
    """What a plain per-record transformers loop computes: the model's own loss with the
    context positions masked."""
    import torch

    ids = torch.tensor([list(context) + list(target)])
    labels = torch.tensor([[-100] * len(context) + list(target)])
    with torch.inference_mode():
        return float(lm.model()(input_ids=ids, labels=labels).loss)


def test_batched_scores_are_each_sequences_own(lm, items):
    # NLLs within 1e-5 (absolute): perplexities and their ratios within 1e-5 relative
    alone = np.array([mean_nll(lm, [item])[0] for item in items])
    for batch_size in (2, 5, 16):
        batched = mean_nll(lm, items, batch_size=batch_size)
        np.testing.assert_allclose(batched, alone, rtol=0, atol=1e-5)
    reordered = mean_nll(lm, items[::-1], batch_size=4)[::-1]
    np.testing.assert_allclose(reordered, alone, rtol=0, atol=1e-5)
    plain = [plain_loss(lm, c, t) for c, t in items]
    np.testing.assert_allclose(alone, plain, rtol=0, atol=1e-4)


def test_identical_items_are_scored_once_and_empty_ones_are_nan(lm, items):
    before = lm.sequences_scored
    out = mean_nll(lm, [items[0], items[1], items[0], (items[0][0], []), ([], items[0][1])])
    assert lm.sequences_scored - before == 2
    assert out[0] == out[2] and not math.isnan(out[1])
    assert math.isnan(out[3]) and math.isnan(out[4])


def test_batches_keep_both_limits():
    keys = [((1,) * n, (2,)) for n in (1, 1, 2, 3, 3, 9, 20)]
    batches = _batches(keys, batch_size=3, batch_tokens=12)
    assert [len(b) for b in batches] == [3, 2, 1, 1]
    for batch in batches:
        width = max(len(c) + len(t) for c, t in batch)
        assert len(batch) == 1 or width * len(batch) <= 12


def test_progress_counts_every_item(lm, items):
    seen = []
    mean_nll(lm, items + items[:3], batch_size=4, progress=seen.append)
    assert sum(seen) == len(items) + 3


def test_models_that_change_their_logits_take_the_whole_forward_pass(tiny_lm, items):
    """A model with soft-capped or scaled logits is run whole (its own logits), and scores
    as the split path does where both apply."""
    split = LanguageModel(str(tiny_lm), "cpu")
    whole = LanguageModel(str(tiny_lm), "cpu")
    whole.model().config.final_logit_softcapping = None  # the attribute exists, unset
    assert whole._split_head() is not None
    whole.model().config.logit_scale = 0.5  # as Cohere's config has it: the whole pass
    assert whole._split_head() is None
    np.testing.assert_allclose(mean_nll(whole, items, batch_size=4),
                               mean_nll(split, items, batch_size=4), rtol=0, atol=1e-5)


def test_single_threaded_workers_give_the_same_scores_and_restore_torch_threads(lm, items):
    import torch

    threads = torch.get_num_threads()
    one = token_nll(lm, items, batch_size=3)
    before = lm.sequences_scored
    two = token_nll(lm, items, batch_size=3, workers=2)
    assert torch.get_num_threads() == threads
    assert lm.sequences_scored - before == len(set(map(repr, items)))
    assert [len(t) for t in two] == [len(t) for t in one]
    np.testing.assert_allclose(np.concatenate(two), np.concatenate(one), rtol=0, atol=1e-5)
    np.testing.assert_allclose(mean_nll(lm, items, batch_size=3, workers=2),
                               [t.mean() for t in one], rtol=0, atol=1e-5)
