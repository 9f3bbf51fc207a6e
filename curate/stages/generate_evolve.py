"""Evol-Instruct: prompts rewritten deeper or broader (stage ``generate.evolve``)."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from ..llm.parse import clean_reply
from .base import StageContext
from .llm_base import GenerateOptions, GenerateStage


class EvolveOptions(GenerateOptions):
    """Options of ``generate.evolve``."""

    how: Literal["deepen", "broaden", "mixed"] = "deepen"
    """deepen: a harder version of the instruction (in-depth evolving); broaden: a new one on a
    related topic (in-breadth); mixed: each row one of the two, by its id."""


class GenerateEvolve(GenerateStage):
    """Rewrites each row's instruction (its last user turn) with Evol-Instruct into a
    ``prompt`` row of the evolved instruction, for ``generate.responses`` to answer.

    Deeper or broader instructions make a harder, more varied SFT set from the same seeds.
    Ids, ``meta`` and failures: README, "LLM generation".

    Input columns:
        - kind, messages / prompt: SFT, preference or prompt rows.

    Output columns:
        - kind ``prompt``, prompt (the system turn, if any, and the evolved user turn), id,
          meta (``parent``, ``evolution``, ``generation``); messages, chosen, rejected null.
        - generation_error (str): on rejected rows, the error.

    Examples:
        ```yaml
        - use: generate.evolve
          with: {how: mixed}
        - use: generate.responses
        ```
    """

    id = "generate.evolve"
    Options = EvolveOptions
    summary = "Rewrite prompts deeper or broader (Evol-Instruct) into prompt rows (LLM)."
    task = "evolve"
    targets = ("sft", "preference", "prompt")
    template_steps = {"deepen": {"prompt"}, "broaden": {"prompt"}}
    cli_order = 30
    options: EvolveOptions

    def method(self, row: dict) -> str:
        if self.options.how != "mixed":
            return self.options.how
        return ("deepen", "broaden")[int(hashlib.sha1(row["id"].encode()).hexdigest(), 16) % 2]

    @staticmethod
    def turns(row: dict) -> list[dict]:
        return list(row["messages"][:-1] if row["kind"] == "sft" else row["prompt"])

    def generate_rows(self, rows: list[dict], ctx: StageContext) -> list[Any]:
        requests = []
        for row in rows:
            user = [t for t in self.turns(row) if t["role"] == "user"][-1]["content"]
            step = self.method(row)
            requests.append(self.request(self.template()[step].messages(prompt=user), step, ctx))
        out = []
        version = self.template().version
        for row, reply in zip(rows, self.generate(requests, ctx, desc=ctx.name)):
            if not reply.ok:
                out.append(("budget_exhausted", "the token budget was spent before this row")
                           if reply.not_sent else ("generation_failed", reply.error))
                continue
            text = clean_reply(reply.text)
            if not text:
                out.append(("empty_generation", "the model replied with nothing"))
                continue
            how = self.method(row)
            system = [t for t in self.turns(row) if t["role"] == "system"][:1]
            new_id = hashlib.sha1(f"{row['id']}\x1f{how}\x1f{version}".encode()).hexdigest()[:16]
            out.append({"id": new_id, "kind": "prompt", "messages": None, "chosen": None,
                        "rejected": None, "chosen_score": None, "rejected_score": None,
                        "prompt": system + [{"role": "user", "content": text}],
                        "meta": {**row["meta"], "parent": row["id"], "evolution": how,
                                 "generation": self.provenance()}})
        return out
