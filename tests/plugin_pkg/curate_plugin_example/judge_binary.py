"""``binary``: a judge mode asking one yes/no question of each candidate, whether it is an
acceptable answer (``judge_score``: 1 or 0, or the share of yes over several judges). A new
judge mode is this module and its template (``templates/binary.yaml``): ``curate judge --mode
binary`` follows."""

from __future__ import annotations

from pathlib import Path

from curate import VoteMode
from curate.judge.checklist import yes_no


class Binary(VoteMode):
    name = "binary"
    help = "one yes/no question per candidate: is it an acceptable answer"
    template_dir = Path(__file__).parent / "templates"  # templates/binary.yaml
    template_steps = {"binary": {"instruction", "response"}}

    def aspects(self) -> list[str]:
        return []  # one verdict, no judge_<aspect> columns

    def requests(self, instruction, candidates, ask, seed):
        return [(("accept", i), ask("binary", instruction=instruction, response=text))
                for i, text in enumerate(candidates)]

    def scores(self, asked, text):
        return {"acceptable": yes_no(text)}
