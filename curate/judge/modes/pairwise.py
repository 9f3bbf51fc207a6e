"""``pairwise``: every candidate pair judged in both orders; a verdict that flips with the
order is a tie, flagged ``position_inconsistent``."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .. import columns as jc
from ..combine import candidate_pairs, order_checked, pairwise_row
from ..parse import pairwise_verdict
from ..stats import judged_rows, pair_stats
from . import JudgeMode

# a verdict on (first, second) as one on (a, b): shown in order, or swapped
_MAPPED = ({"A": "a", "B": "b", "tie": "tie"}, {"A": "b", "B": "a", "tie": "tie"})


class Pairwise(JudgeMode):
    name = "pairwise"
    help = ("every candidate pair judged in both orders (a verdict that flips with the order "
            "is a tie, flagged position_inconsistent)")
    order = 0
    min_candidates = 2
    template_name = "judge"
    template_steps = {"pairwise": {"instruction", "response_a", "response_b"}}
    unusable = "a usable answer in both orders of any pair"

    def requests(self, instruction, candidates, ask, seed):
        out = []
        for a, b in candidate_pairs(len(candidates), max_pairs_k=self.options.max_pairs_k,
                                    seed=seed):
            for first, second in ((a, b), (b, a)):
                out.append((("pair", a, b, first),
                            ask("pairwise", instruction=instruction,
                                response_a=candidates[first], response_b=candidates[second])))
        return out

    def result(self, candidates, asked, replies, names, unparseable: Counter
               ) -> tuple[dict, int, dict]:
        found: dict[tuple, dict[str, Any]] = {}
        for name, judged in zip(names, replies):
            for (_, a, b, first), reply in zip(asked, judged):
                said = pairwise_verdict(reply.text)
                unparseable[name] += said is None
                entry = found.setdefault((name, a, b), {"judge": name, "a": a, "b": b})
                entry["ab" if first == a else "ba"] = (
                    None if said is None else _MAPPED[first != a][said])
        usable = 0
        for entry in found.values():
            entry["verdict"], entry["consistent"] = order_checked(entry["ab"], entry["ba"])
            usable += entry["verdict"] is not None  # order-checked verdicts only
        comparisons = list(found.values())
        combined = pairwise_row(len(candidates), comparisons, self.options.aggregate)
        return ({jc.COMPARISONS: comparisons,
                 jc.POSITION_INCONSISTENT: combined["inconsistent"]}, usable, combined)

    def stats(self, scored, judges):
        return pair_stats(judged_rows(scored), judges)
