"""Scripted judges behind the tests' OpenAI-compatible chat server (real HTTP on 127.0.0.1):
each model name answers by a fixed policy, so that verdicts, flips and agreement are known."""

from __future__ import annotations

import re

from curate.records import records_to_frame

from ..llm.chat_server import ChatServer

_SHOWN = re.compile(r"\[Response A\]\n(.*?)\n\[End of Response A\]\n\n\[Response B\]\n(.*?)\n"
                    r"\[End of Response B\]", re.S)
_ONE = re.compile(r"\[Response\]\n(.*?)\n\[End of Response\]", re.S)
_CHECKED = re.compile(r"\nAnswer: (.*?)\n\n(.*?) Reply Yes or No\.$", re.S)


def shown(body: dict) -> tuple[str, str]:
    m = _SHOWN.search(body["messages"][-1]["content"])
    return m.group(1), m.group(2)


def policy(model: str, body: dict) -> str:
    """first: always the response shown first; longer / shorter: by length, whatever the
    order; garbage: nothing readable; rater: pointwise, the length in words (capped at 10);
    picky: pointwise as rater, but nothing readable about a reply of fewer than 3 words;
    checker: checklist, yes to every question about a reply of more than 3 words, and to
    the safety question always."""
    text = body["messages"][-1]["content"]
    if model == "garbage":
        return "I cannot decide, both have merits."
    checked = _CHECKED.search(text)
    if checked:
        reply, question = checked.groups()
        yes = len(reply.split()) > 3 or "safe" in question
        return "Yes." if yes else "No, the answer is not good enough."
    if "[Response]" in text:
        words = len(_ONE.search(text).group(1).split())
        if model == "picky" and words < 3:
            return "Hmm, hard to say."
        score = min(10, max(1, words)) if model != "flat" else 5
        return f"Helpfulness: {score}\nHonesty: {score}/10\nHarmlessness: 9\n" \
               f"Instruction following: {score}"
    a, b = shown(body)
    if model == "first":
        return "[[A]]"
    if model in ("longer", "shorter"):
        pick_a = (len(a) > len(b)) == (model == "longer")
        return "Response A is better." if pick_a else "B"
    raise AssertionError(f"no policy for model {model!r}")


def judge_server(**kw) -> ChatServer:
    return ChatServer(reply=lambda body: policy(body["model"], body), **kw)


def pairs_frame(n: int = 3, start: int = 0) -> "pl.DataFrame":  # noqa: F821
    """n SFT rows with two candidates of different lengths (the longer one second), a
    preference row, and a prompt row (not judged)."""
    rows = [{"id": f"s{i}", "kind": "sft",
             "messages": [{"role": "user", "content": f"Explain topic {i}."},
                          {"role": "assistant", "content": f"Short {i}."}],
             "meta": {}} for i in range(start, start + n)]
    frame = records_to_frame(rows + [
        {"id": "p0", "kind": "preference",
         "prompt": [{"role": "user", "content": "Name a colour."}],
         "chosen": [{"role": "assistant", "content": "Blue is a colour of the sky."}],
         "rejected": [{"role": "assistant", "content": "No."}]},
        {"id": "q0", "kind": "prompt", "prompt": [{"role": "user", "content": "Hi?"}]}])
    import polars as pl

    candidates = [[f"Short {i}.", f"A much longer answer about topic {i}, in detail."]
                  for i in range(start, start + n)] + [None, None]
    return frame.with_columns(pl.Series("candidates", candidates, pl.List(pl.String)))
