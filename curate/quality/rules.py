"""Vectorised scores of the ``quality.rules`` stage.

The scores are polars expressions over the unified record frame (see :mod:`curate.records`),
except the n-gram repetition, which explodes the words of a batch into one column and counts
per row with a group-by. Nothing loops over rows in Python.
"""

from __future__ import annotations

import re

import polars as pl

from ..messages import (all_turns, conversation_order_ok, message_text, prompt_order_ok,
                        reply_order_ok, response_messages)

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
_CP1252_HIGH = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"   # cp1252 0x80-0x9F
_CONT = r"[\x{80}-\x{BF}" + _CP1252_HIGH + "]"
_MOJIBAKE = (r"[\x{C2}-\x{DF}]" + _CONT + r"|[\x{E0}-\x{EF}]" + _CONT * 2
             + r"|\x{F0}" + _CONT * 3)
_MOJIBAKE_OR_BLOB = _MOJIBAKE + "|" + _BLOB



def _contents(messages: pl.Expr) -> pl.Expr:
    """The list of what the turns say: content, and the tool calls of a turn that makes them
    (:func:`curate.records.message_text`; null content read as empty)."""
    return messages.list.eval(message_text(pl.element()).fill_null(""))


def _text(messages: pl.Expr) -> pl.Expr:
    """The turns' contents as one string, joined by newlines."""
    return _contents(messages).list.join("\n")


def min_turn_chars() -> pl.Expr:
    """Shortest stripped turn over all turns, replies included (null with no turns); a turn
    that only calls tools counts its calls' text."""
    return all_turns().list.eval(
        message_text(pl.element()).fill_null("").str.strip_chars().str.len_chars()
    ).list.min()


def max_turn_chars() -> pl.Expr:
    """Longest turn over all turns, replies included (null with no turns)."""
    return all_turns().list.eval(
        message_text(pl.element()).fill_null("").str.len_chars()
    ).list.max()


def response_text() -> pl.Expr:
    """The reply's text: the last SFT turn or the chosen reply's turns."""
    return _text(response_messages())


def response_chars() -> pl.Expr:
    """Characters of the reply, stripped."""
    return response_text().str.strip_chars().str.len_chars()


# Odd 64-bit multipliers that mix the word hashes of an n-gram into one hash.
_MIX = (1, 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
        0x85EBCA77C2B2AE63, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53)


def ngram_repetition(df: pl.DataFrame, text: pl.Expr, n: int) -> pl.Series:
    """Per row, 1 - unique / total word ``n``-grams of ``text``; 0 below ``n`` words or no text.

    Words are the lower-cased, white-space separated tokens (punctuation stays attached, so code
    and regexes are not cut into many short repeated words, while ``? ? ?`` loops count). The
    words of all rows are exploded into one column; an n-gram is the wrapping sum of its words'
    64-bit hashes times fixed odd multipliers (by position), valid where its last word is still
    in the same row; unique n-grams are counted per row with a group-by. A hash collision can
    only lower a score by a negligible amount.
    """
    row = "__row"
    words = df.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias(row),
        text.str.to_lowercase().str.extract_all(r"\S+").alias("w"),
    ).explode("w").select(row, pl.col("w").hash(0x51).alias("h"),
                          pl.col("w").is_not_null().alias("ok"))
    gram = pl.col("h")
    valid = pl.col("ok")
    for i in range(1, n):
        gram = gram + pl.col("h").shift(-i) * pl.lit(_MIX[i % len(_MIX)], pl.UInt64)
    if n > 1:
        # the n-gram's last word is in the same row (null at the end reads as false)
        valid = valid & (pl.col(row).shift(-(n - 1)) == pl.col(row))
    scores = (words.select(row, gram.alias("g"), valid.alias("v"))
              .filter(pl.col("v"))
              .group_by(row)
              .agg((1.0 - pl.col("g").n_unique() / pl.len()).alias("rep")))
    return (df.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias(row))
            .join(scores, on=row, how="left", maintain_order="left")["rep"]
            .fill_null(0.0))


def repetition(df: pl.DataFrame, n: int) -> pl.Series:
    """Repetition of each row's reply; for a pair the larger of the chosen and rejected replies'."""
    chosen = ngram_repetition(df, response_text(), n)
    rejected = ngram_repetition(df, pl.when(_is_pref).then(_text(pl.col("rejected"))), n)
    return chosen.zip_with(chosen >= rejected, rejected).alias("quality_repetition")


def role_order_ok() -> pl.Expr:
    """Whether the turns are in a valid order for the record's kind (False when missing); the
    rule is :func:`curate.records.conversation_order_ok` and its pair forms, which the
    exports check too."""
    sft = conversation_order_ok(pl.col("messages"))
    pref = (prompt_order_ok(pl.col("prompt")) & reply_order_ok(pl.col("chosen"))
            & reply_order_ok(pl.col("rejected")))
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
    decoded = text.str.replace_all(_MOJIBAKE_OR_BLOB, "")
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
