"""Token sequences whose likelihoods give the IFD and grounding scores of a record.

For a reply R after the turns P that came before it (the instruction):

- ``conditional``: P through the model's chat template with the generation prompt (the
  assistant turn's header), then R; only R's tokens are scored;
- ``alone``: R after the generation prompt of an empty conversation (for SmolLM2
  ``<|im_start|>assistant\\n``): a reply to nothing, the same tokens scored;
- ``grounded``: as ``conditional``, with the source passage before the first user turn's text
  (``{passage}\\n\\n{question}``, the way ``generate.questions`` asked for the answer).

R is tokenized on its own and appended, so the three score exactly the same tokens. R keeps
its first ``max_tokens`` tokens, a context its last ``max_tokens`` tokens. A model without a
chat template gets the turns' texts joined by blank lines.
"""

from __future__ import annotations

from typing import Any

Ids = list[int]


class Tokens:
    """Turns, replies and passages as token ids for one tokenizer."""

    def __init__(self, tokenizer, max_tokens: int):
        self.tok, self.max_tokens = tokenizer, max_tokens
        self.templated = bool(getattr(tokenizer, "chat_template", None))

    def _ids(self, text: str) -> Ids:
        return list(self.tok(text, add_special_tokens=False).input_ids)

    def reply(self, text: str | None) -> Ids:
        return self._ids(text)[:self.max_tokens] if text else []

    def context(self, turns: list[dict[str, Any]]) -> Ids:
        if self.templated:
            text = self.tok.apply_chat_template(turns, tokenize=False,
                                                add_generation_prompt=True)
        else:
            text = "".join(f"{t['content']}\n\n" for t in turns)
        ids = self._ids(text)
        return ids[-self.max_tokens:] or self.alone()

    def alone(self) -> Ids:
        """The generation prompt alone: what the template adds after a conversation for the
        assistant's reply (templates refuse an empty conversation, so it is read off one)."""
        start = self.tok.bos_token_id if self.tok.bos_token_id is not None \
            else self.tok.eos_token_id
        fallback = [] if start is None else [start]
        if not self.templated:
            return fallback
        turns = [{"role": "user", "content": "x"}]
        done = self.tok.apply_chat_template(turns, tokenize=False)
        asked = self.tok.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)
        suffix = asked[len(done):] if asked.startswith(done) else ""
        return self._ids(suffix)[-self.max_tokens:] or fallback

    def grounded(self, turns: list[dict[str, Any]], passage: str) -> Ids:
        first = next((i for i, t in enumerate(turns) if t["role"] == "user"), None)
        if first is None:
            return self.context([{"role": "user", "content": passage}, *turns])
        turns = list(turns)
        turns[first] = {**turns[first], "content": f"{passage}\n\n{turns[first]['content']}"}
        return self.context(turns)
