"""``pointwise``: a 1-scale rubric score per aspect and candidate, all aspects in one reply
(``Helpfulness: 7``, one line each)."""

from __future__ import annotations

from ..parse import rubric_scores
from .votes import VoteMode


class Pointwise(VoteMode):
    name = "pointwise"
    help = "a 1-scale rubric score per aspect and candidate"
    order = 1
    template_name = "judge"
    template_steps = {"pointwise": {"instruction", "response", "aspects", "scale", "example"}}

    def requests(self, instruction, candidates, ask, seed):
        aspects, scale = self.options.aspects, self.options.scale
        example = "\n".join(f"{a.replace('_', ' ').capitalize()}: N" for a in aspects)
        return [(("rate", i), ask("pointwise", instruction=instruction, response=text,
                                  scale=scale,
                                  aspects=", ".join(a.replace("_", " ") for a in aspects),
                                  example=example))
                for i, text in enumerate(candidates)]

    def scores(self, asked, text):
        return rubric_scores(text, self.options.aspects, self.options.scale)
