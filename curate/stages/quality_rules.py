"""Vectorised score expressions of the ``quality.rules`` stage.

Every function returns a polars expression over the unified record frame (see
:mod:`curate.records`); none of them loops over rows in Python.
"""

from __future__ import annotations

import re

import polars as pl

from ..records import all_turns, response_messages

_is_sft = pl.col("kind") == "sft"
_is_pref = pl.col("kind") == "preference"

# Boilerplate refusals and AI disclaimers, matched case-insensitively anywhere in the response.
# A straight apostrophe also matches a typographic one, and a space any run of white space.
REFUSAL_PATTERNS: tuple[str, ...] = (
    "as an ai language model",
    "as a language model",
    "as a large language model",
    "as an ai model",
    "as an ai assistant, i",
    "as an ai, i",
    "i'm just an ai",
    "i am just an ai",
    "i'm only an ai",
    "i am an ai language model",
    "i'm an ai language model",
    "i'm sorry, but i cannot",
    "i'm sorry, but i can't",
    "i'm sorry, but as an ai",
    "i am sorry, but i cannot",
    "i apologize, but i cannot",
    "i apologize, but i can't",
    "i apologize, but as an ai",
    "i cannot fulfill",
    "i can't fulfill",
    "i cannot comply",
    "i can't comply",
    "i'm unable to",
    "i am unable to",
    "i am not able to provide",
    "i'm not able to provide",
    "i cannot provide assistance",
    "i can't assist with that",
    "i cannot assist with that",
    "i can't help with that",
    "i cannot help with that",
    "i must decline",
    "i won't be able to help",
    "my programming prevents me",
    "it is not appropriate for me to",
    "it's not appropriate for me to",
    "against my programming",
    "i do not have the ability to",
    "i don't have the ability to",
    "i do not have personal opinions",
    "i don't have personal opinions",
)


def _phrase_regex(phrase: str) -> str:
    """A phrase as a regex: from a word start, ``'`` also typographic, spaces any white space."""
    parts = []
    for ch in phrase:
        if ch == "'":
            parts.append("['\u2019]")
        elif ch == " ":
            parts.append(r"\s+")
        else:
            parts.append(re.escape(ch))
    return r"\b" + "".join(parts)


REFUSAL_REGEX = "(?i)" + "|".join(_phrase_regex(p) for p in REFUSAL_PATTERNS)

# Junk detection (see text_ratio). Characters that are not text: control characters other than
# white space, private-use and unassigned code points, and the replacement character.
# Letters, marks, digits, white space, punctuation and symbols (code, math, currency, arrows,
# box drawing, emoji, degree/copyright signs) are text.
_NOT_TEXT = r"[\p{Cc}\p{Co}\p{Cn}\x{FFFD}--\s]"
# Unbroken base64/hex-like tokens of this many characters or more are not text...
BLOB_TOKEN_CHARS = 80
_BLOB = r"[A-Za-z0-9+/=]{%d,}" % BLOB_TOKEN_CHARS
# ... nor runs of this many punctuation/symbol characters with no letter, digit or space among
# them. Runs made only of the characters that draw layout in markdown, reStructuredText and code
# comments (rules, table borders, underlines, form blanks, dotted leaders, comment banners) are
# text and split symbol runs.
SYMBOL_RUN_CHARS = 16
_LAYOUT_RUN = r"[-_=|:+*#~./\\]{2,}"
_SYMBOL_RUN = r"[^\p{L}\p{M}\p{N}\s]{%d,}" % SYMBOL_RUN_CHARS
# ... nor mojibake: UTF-8 read as Latin-1/cp1252, i.e. a lead-byte character (Â-ß for two-byte,
# à-ï for three-byte, ð for four-byte sequences) followed by continuation-byte characters.
_CONT = "[\\x{80}-\\x{BF}\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d" \
        "\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178]"
_MOJIBAKE = (r"[\x{C2}-\x{DF}]" + _CONT + r"|[\x{E0}-\x{EF}]" + _CONT * 2
             + r"|\x{F0}" + _CONT * 3)

ROLE_CODES = {"system": "s", "user": "u", "assistant": "a", "tool": "t"}
# system? then user/assistant turns alternating from user; tool results (one or more, for
# parallel tool calls) only between two assistant turns.
_SFT_ORDER = r"^s?(?:ua(?:t+a)*)+$"
_PROMPT_ORDER = r"^s?(?:ua(?:t+a)*)*u$"
_REPLY_ORDER = r"^a(?:t+a)*$"


def _contents(messages: pl.Expr) -> pl.Expr:
    """The list of turn contents (null content read as empty)."""
    return messages.list.eval(pl.element().struct.field("content").fill_null(""))


def _text(messages: pl.Expr) -> pl.Expr:
    """The turns' contents as one string, joined by newlines."""
    return _contents(messages).list.join("\n")


def min_turn_chars() -> pl.Expr:
    """Shortest stripped turn over all turns, replies included (null with no turns)."""
    return all_turns().list.eval(
        pl.element().struct.field("content").fill_null("").str.strip_chars().str.len_chars()
    ).list.min()


def max_turn_chars() -> pl.Expr:
    """Longest turn over all turns, replies included (null with no turns)."""
    return all_turns().list.eval(
        pl.element().struct.field("content").fill_null("").str.len_chars()
    ).list.max()


def response_text() -> pl.Expr:
    """The reply's text: the last SFT turn or the chosen reply's turns."""
    return _text(response_messages())


def response_chars() -> pl.Expr:
    """Characters of the reply, stripped."""
    return response_text().str.strip_chars().str.len_chars()


def repetition_of(text: pl.Expr, n: int) -> pl.Expr:
    """1 - unique / total word ``n``-grams of ``text``; 0 below ``n`` words.

    Words are the lower-cased, white-space separated tokens (punctuation stays attached, so code
    and regexes are not split into many short repeated words, while ``? ? ?`` loops count).
    """
    words = text.str.to_lowercase().str.extract_all(r"\S+")
    if n == 1:
        grams = words
    else:
        grams = words.list.eval(
            pl.concat_str([pl.element().shift(-i) for i in range(n)], separator=" ").drop_nulls())
    total = grams.list.len()
    rep = 1.0 - grams.list.n_unique() / total
    return pl.when(total > 0).then(rep).otherwise(pl.lit(0.0)).fill_null(0.0)


def repetition(n: int) -> pl.Expr:
    """Repetition of the reply; for a pair the larger of the chosen and rejected replies'."""
    chosen = repetition_of(response_text(), n)
    rejected = repetition_of(_text(pl.col("rejected")), n)
    return pl.when(_is_pref).then(pl.max_horizontal(chosen, rejected)).otherwise(chosen)


def _roles(messages: pl.Expr) -> pl.Expr:
    """Roles as one code letter per turn (``x`` for an unknown role)."""
    return messages.list.eval(
        pl.element().struct.field("role").replace_strict(ROLE_CODES, default="x",
                                                         return_dtype=pl.String)
    ).list.join("")


def role_order_ok() -> pl.Expr:
    """Whether the turns are in a valid order for the record's kind (False when missing)."""
    sft = _roles(pl.col("messages")).str.contains(_SFT_ORDER)
    pref = (_roles(pl.col("prompt")).str.contains(_PROMPT_ORDER)
            & _roles(pl.col("chosen")).str.contains(_REPLY_ORDER)
            & _roles(pl.col("rejected")).str.contains(_REPLY_ORDER))
    return (pl.when(_is_sft).then(sft).when(_is_pref).then(pref).otherwise(pl.lit(False))
            .fill_null(False))


def text_ratio() -> pl.Expr:
    """Share of text characters over all turns' text (null when there is no text at all).

    Mojibake sequences, blob tokens (``BLOB_TOKEN_CHARS``+ base64/hex-like characters), runs of
    ``SYMBOL_RUN_CHARS``+ punctuation/symbols (layout characters aside) and non-text characters
    (controls, private use, unassigned, U+FFFD) count as non-text; everything else is text.
    """
    text = _text(all_turns())
    total = text.str.len_chars()
    decoded = text.str.replace_all(_MOJIBAKE, "").str.replace_all(_BLOB, "")
    # A layout run becomes one space (so it splits symbol runs); its other characters are
    # added back as text.
    spaced = decoded.str.replace_all(_LAYOUT_RUN, " ")
    layout = decoded.str.len_chars() - spaced.str.len_chars()
    cleaned = spaced.str.replace_all(_SYMBOL_RUN, "")
    good = cleaned.str.len_chars() + layout - cleaned.str.count_matches(_NOT_TEXT)
    return pl.when(total > 0).then(good / total).otherwise(pl.lit(None, pl.Float64))


def refusal() -> pl.Expr:
    """Whether the reply matches one of ``REFUSAL_PATTERNS``."""
    return response_text().str.contains(REFUSAL_REGEX).fill_null(False)
