"""The base of the modes that score each candidate alone (pointwise, checklist): votes of
(judge, candidate, aspect, score), combined per candidate and per aspect."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .. import columns as jc
from ..combine import pointwise_row
from ..stats import judged_rows, vote_agreement
from . import JudgeMode


class VoteMode(JudgeMode):
    """A mode whose answers are scores of one candidate: :meth:`scores` reads one."""

    def aspects(self) -> list[str]:
        return list(self.options.aspects)

    def scores(self, asked: tuple, text: str | None) -> dict[str, float | None]:
        """The aspects' scores one reply gives (None: not readable)."""
        raise NotImplementedError

    def result(self, candidates, asked, replies, names, unparseable: Counter
               ) -> tuple[dict, int, dict]:
        votes: list[dict[str, Any]] = []
        usable = 0
        for name, judged in zip(names, replies):
            for what, reply in zip(asked, judged):
                scores = self.scores(what, reply.text)
                readable = any(s is not None for s in scores.values())
                unparseable[name] += not readable
                usable += readable
                votes += [{"judge": name, "candidate": what[1], "aspect": a, "score": s}
                          for a, s in scores.items()]
        combined = pointwise_row(len(candidates), votes, names, self.aspects(),
                                 self.options.aggregate)
        columns = {jc.VOTES: votes,
                   **{jc.aspect_column(a): v for a, v in combined["aspects"].items()}}
        return columns, usable, combined

    def stats(self, scored, judges):
        return {"agreement": vote_agreement(judged_rows(scored), judges)}
