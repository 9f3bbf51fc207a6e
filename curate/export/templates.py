"""Render every exported conversation through a real chat template before it is written.

The chatml, llama-3 and zephyr templates ship as Jinja files in ``curate/data/chat_templates/``
(written for curate). They are applied with transformers' ``apply_chat_template`` on a tokenizer
built here (a word-level ``tokenizers`` model over the template's special tokens, so nothing is
downloaded). A conversation fails when the template refuses it (``template_error``: a role the
template does not know, a system turn after the first, tool calls, which zephyr has no form
for), or when a turn's text is missing from the rendering (``lost_turn``: every turn, and each
tool call's name and arguments, must appear in order).

``max_tokens`` counts tokens with a named tokenizer (a Hub name in the local cache or a folder)
loaded with ``local_files_only=True``; its own chat template renders the text when it has one.
A record is rendered as its SFT conversation, or as prompt + chosen and prompt + rejected.

Examples:

    >>> tok = local_tokenizer("chatml")
    >>> tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False)
    '<|im_start|>user\\nHi<|im_end|>\\n'
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Callable

import polars as pl

from ..columns import DROP_REASON
from ..errors import CurateError
from ..progress import bar

CHAT_TEMPLATES = ("chatml", "llama-3", "zephyr")
_SPECIAL = {
    "chatml": {"eos_token": "<|im_end|>", "bos_token": "<s>"},
    "llama-3": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "zephyr": {"bos_token": "<s>", "eos_token": "</s>"},
}


def template_text(name: str) -> str:
    """The Jinja source of a shipped chat template."""
    if name not in CHAT_TEMPLATES:
        raise CurateError(f"unknown chat template {name!r}; shipped templates: "
                          f"{', '.join(CHAT_TEMPLATES)}")
    path = resources.files("curate") / "data" / "chat_templates" / f"{name}.jinja"
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def local_tokenizer(name: str):
    """A transformers tokenizer with the shipped template ``name``, built without downloads."""
    from tokenizers import Tokenizer, models, pre_tokenizers  # startup
    from transformers import PreTrainedTokenizerFast

    text = template_text(name)
    special = _SPECIAL[name]
    vocab = {"[UNK]": 0, **{tok: i + 1 for i, tok in enumerate(sorted(set(special.values())))}}
    model = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    model.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=model, unk_token="[UNK]", chat_template=text,
                                   **special)


def load_tokenizer(name: str):
    """A tokenizer by Hub name or folder, only from local files."""
    from transformers import AutoTokenizer  # startup

    try:
        return AutoTokenizer.from_pretrained(name, local_files_only=True)
    except Exception as exc:  # OSError, ValueError, ... from transformers
        raise CurateError(f"tokenizer {name!r} is not available offline (not a tokenizer folder "
                          f"and not in the local Hugging Face cache): {type(exc).__name__}"
                          ) from None


class TemplateRefused(Exception):
    """The chat template refused a conversation (its own ``raise_exception``)."""


def apply_template(tok: Any, turns: list[dict]) -> str:
    """``turns`` rendered by ``tok``'s chat template. A conversation the template refuses (it
    calls ``raise_exception``, e.g. on roles out of order) raises TemplateRefused, which makes
    a rejected row; any other failure is a broken template and a CurateError that stops."""
    import jinja2  # startup

    try:
        return tok.apply_chat_template(turns, tokenize=False)
    except jinja2.exceptions.TemplateError as exc:
        if type(exc) is jinja2.exceptions.TemplateError:  # raise_exception's own class
            raise TemplateRefused(str(exc)) from None
        raise CurateError(f"the chat template is broken: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # an error in the template's logic, not in the row
        raise CurateError(f"the chat template is broken: {type(exc).__name__}: {exc}") from exc


def conversations(rec: dict) -> list[list[dict]]:
    """The conversations a record is rendered as."""
    if rec["kind"] == "preference":
        return [rec["prompt"] + rec["chosen"], rec["prompt"] + rec["rejected"]]
    return [rec["messages"]]


class ShippedTemplate:
    """A shipped template rendered as ``apply_chat_template(turns, tokenize=False)`` renders it
    with :func:`local_tokenizer`, without that call's per-row overhead (the export checks
    every row): transformers' own compiled template and environment, given what that call
    gives it (the turns without their None-valued keys, the special tokens)."""

    def __init__(self, name: str):
        from transformers.utils.chat_template_utils import (  # startup
            _compile_jinja_template)

        self.tok = local_tokenizer(name)
        self.template = _compile_jinja_template(self.tok.chat_template)
        self.context = {"tools": None, "documents": None, "add_generation_prompt": False,
                        **self.tok.special_tokens_map}

    def __call__(self, turns: list[dict]) -> str:
        import jinja2  # startup

        chat = [{k: v for k, v in turn.items() if v is not None} for turn in turns]
        try:
            return self.template.render(messages=chat, **self.context)
        except jinja2.exceptions.TemplateError as exc:
            if type(exc) is jinja2.exceptions.TemplateError:  # raise_exception's own class
                raise TemplateRefused(str(exc)) from None
            raise CurateError(f"the chat template is broken: {type(exc).__name__}: {exc}"
                              ) from exc


@lru_cache(maxsize=None)
def shipped_renderer(name: str):
    """A function ``turns -> text`` for the shipped template ``name``: a
    :class:`ShippedTemplate`, or the tokenizer's ``apply_chat_template`` where this
    transformers has no ``_compile_jinja_template``."""
    try:
        return ShippedTemplate(name)
    except ImportError:
        tok = local_tokenizer(name)
        return lambda turns: apply_template(tok, turns)


def check_conversation(render: Callable[[list[dict]], str], turns: list[dict]
                       ) -> tuple[str | None, str]:
    """(reason or None, rendered text) for one conversation; ``render``: ``turns -> text``
    (see :func:`shipped_renderer`)."""
    try:
        text = render(turns)
    except TemplateRefused:
        return "template_error", ""
    pos = 0
    for turn in turns:
        for part in _said(turn):
            found = text.find(part, pos)
            if found < 0:
                return "lost_turn", text
            pos = found + len(part)
    return None, text


def check_max_tokens(max_tokens: int | None, tokenizer: str | None) -> None:
    """CurateError unless ``max_tokens`` is unset, or a count >= 1 with a ``tokenizer``."""
    if max_tokens is None:
        return
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise CurateError(f"max_tokens must be a whole number >= 1, not {max_tokens!r}")
    if not tokenizer:
        raise CurateError("max_tokens needs a tokenizer (a name in the local Hugging Face "
                          "cache or a tokenizer folder) to count tokens with")


def _said(turn: dict) -> list[str]:
    """What must appear of a turn, in order: its text, then each call's name and arguments."""
    parts = [(turn.get("content") or "").strip()]
    for call in turn.get("tool_calls") or ():
        parts += [call["function"]["name"], call["function"]["arguments"]]
    return parts


def render_check(df: pl.DataFrame, *, chat_template: str = "chatml",
                 tokenizer: str | None = None,
                 max_tokens: int | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows that render, rows that do not with ``drop_reason``); both keep df's columns.

    Input columns: ``kind``, ``messages``, ``prompt``, ``chosen``, ``rejected``.
    Output columns: ``drop_reason`` on the second frame (template_error, lost_turn, too_long).
    """
    render = shipped_renderer(chat_template) if chat_template in CHAT_TEMPLATES else None
    if render is None:
        template_text(chat_template)  # raises the CurateError naming the shipped templates
    counter = None
    if max_tokens is not None:
        check_max_tokens(max_tokens, tokenizer)
        counter = load_tokenizer(tokenizer)
    reasons: list[str | None] = []
    cols = df.select("kind", "messages", "prompt", "chosen", "rejected")
    with bar(total=df.height, desc="render") as progress:
        for i, rec in enumerate(cols.iter_rows(named=True)):
            reasons.append(_row_reason(rec, render, counter, max_tokens))
            if i % 1024 == 1023:
                progress.update(1024)
    reason = pl.Series(DROP_REASON, reasons, dtype=pl.String)
    bad = reason.is_not_null()
    return df.filter(~bad), df.with_columns(reason).filter(bad)


def _row_reason(rec: dict, render: Callable[[list[dict]], str], counter: Any,
                max_tokens: int | None) -> str | None:
    for turns in conversations(rec):
        why, text = check_conversation(render, turns)
        if why:
            return why
        if counter is not None:
            if getattr(counter, "chat_template", None):
                try:
                    text = apply_template(counter, turns)
                except TemplateRefused:
                    return "template_error"
            if len(counter(text, add_special_tokens=False)["input_ids"]) > max_tokens:
                return "too_long"
    return None
