"""``checklist``: a yes/no question per aspect and candidate (score: the share of yes; what
small models answer readably)."""

from __future__ import annotations

from ..checklist import question_of, yes_no
from .votes import VoteMode


class Checklist(VoteMode):
    name = "checklist"
    help = ("a yes/no question per aspect and candidate (score: the share of yes; what small "
            "models answer readably)")
    order = 2
    template_name = "judge"
    template_steps = {"checklist": {"instruction", "response", "question"}}

    def requests(self, instruction, candidates, ask, seed):
        return [(("check", i, aspect), ask("checklist", instruction=instruction,
                                            response=text, question=question_of(aspect)))
                for i, text in enumerate(candidates) for aspect in self.options.aspects]

    def scores(self, asked, text):
        return {asked[2]: yes_no(text)}
