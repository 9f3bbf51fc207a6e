"""Questions that passages of raw documents answer, with grounded answers (stage
``generate.questions``): raw documents become SFT records."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..llm.parse import QUESTIONS_SCHEMA, clean_reply, parse_questions
from .base import StageContext
from .llm_base import GenerateOptions, GenerateStage


class QuestionsOptions(GenerateOptions):
    """Options of ``generate.questions``."""

    n: int = Field(1, ge=1, le=10)
    """Questions per passage; with more than one, the record is a conversation of that many
    question/answer turns about the passage."""


class GenerateQuestions(GenerateStage):
    """Turns each ``passage`` row (a piece of a raw document, from ``--format passages``) into
    an SFT record: the LLM writes ``n`` questions the passage answers (instruction
    backtranslation), then answers each from the passage alone.

    Raw documents become instruction data whose answers can be traced to their source.
    What is kept in ``meta`` and what is rejected: README, "LLM generation".

    Input columns:
        - kind ``passage``, prompt (one user turn: the passage text), meta.

    Output columns:
        - kind ``sft``, messages; prompt null; meta (provenance, ``passage``, ``questions``,
          ``generation``).
        - generation_error (str): on rejected rows, what went wrong (with the reply).

    Examples:
        ```yaml
        input: {path: docs/, format: passages}
        stages:
          - use: generate.questions
            with: {n: 2}
        ```
    """

    id = "generate.questions"
    Options = QuestionsOptions
    summary = "Write questions that document passages answer, and grounded answers (LLM)."
    task = "questions"
    targets = ("passage",)
    template_steps = {"questions": {"passage", "n"}, "answer": {"passage", "question"}}
    cli_order = 10
    options: QuestionsOptions

    @classmethod
    def input_format(cls, options: dict[str, Any]) -> str:
        return "passages"

    def generate_rows(self, rows: list[dict], ctx: StageContext) -> list[Any]:
        ask = self.template()["questions"]
        n = self.options.n
        passages = [r["prompt"][0]["content"] for r in rows]
        asked = self.generate([self.request(ask.messages(passage=p, n=n), "questions", ctx,
                                            schema=QUESTIONS_SCHEMA) for p in passages],
                              ctx, desc=f"{ctx.name} questions")
        questions: list[list[str] | tuple[str, str]] = []
        for reply in asked:
            if not reply.ok:
                questions.append(("budget_exhausted", "the token budget was spent before "
                                  "this row") if reply.not_sent
                                 else ("generation_failed", reply.error))
            elif not reply.text.strip():
                questions.append(("empty_generation", "the model replied with nothing"))
            else:
                found = parse_questions(reply.text, n)
                questions.append(found or ("unparseable", "no usable question (a line "
                                           f"ending with '?') in the reply: {reply.text[:300]!r}"))
        answer = self.template()["answer"]
        wanted = [(i, q) for i, qs in enumerate(questions) if isinstance(qs, list) for q in qs]
        replies = self.generate([self.request(answer.messages(passage=passages[i], question=q),
                                              "answer", ctx) for i, q in wanted],
                                ctx, desc=f"{ctx.name} answers")
        answers: dict[int, list] = {}
        for (i, _), reply in zip(wanted, replies):
            answers.setdefault(i, []).append(reply)
        out = []
        for i, row in enumerate(rows):
            if isinstance(questions[i], tuple):
                out.append(questions[i])
                continue
            got = answers[i]
            failed = next((r for r in got if not r.ok), None)
            if failed is not None:
                out.append(("budget_exhausted", "the token budget was spent before this row")
                           if failed.not_sent else ("generation_failed", failed.error))
                continue
            texts = [clean_reply(r.text) for r in got]
            if any(not t for t in texts):
                out.append(("empty_generation", "the model answered a question with nothing"))
                continue
            messages = []
            for q, a in zip(questions[i], texts):
                messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
            meta = {**row["meta"], "passage": passages[i], "questions": len(texts),
                    "generation": self.provenance()}
            out.append({"kind": "sft", "prompt": None, "messages": messages, "meta": meta})
        return out
