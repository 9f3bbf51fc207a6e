"""Text normalisation shared by dedup, splits and quality rules."""

from __future__ import annotations

import re
import unicodedata

import polars as pl

# Characters whose full case folding differs from lower-casing (Python's str.casefold).
_FOLD = {"ß": "ss", "ς": "σ", "ﬁ": "fi", "ﬂ": "fl", "ẞ": "ss"}


# White space as polars' (Rust's) \s sees it: Python's also counts \x1c-\x1f, which
# join_messages uses as separators, so they are left out here to keep both twins equal.
_SPACE = re.compile(r"[^\S\x1c-\x1f]+")


def normalize(text: str) -> str:
    """NFKC, case-folded, runs of white space collapsed to one space, stripped."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip(" ")


def normalize_expr(expr: pl.Expr) -> pl.Expr:
    """The vectorised twin of :func:`normalize` for a string expression."""
    out = expr.str.normalize("NFKC").str.to_lowercase()
    for src, dst in _FOLD.items():
        out = out.str.replace_all(src, dst, literal=True)
    return out.str.replace_all(r"\s+", " ").str.strip_chars()


def nfkc(texts: pl.Series) -> pl.Series:
    """NFKC-normalised texts; only the texts with a non-ASCII character are touched (NFKC
    leaves ASCII as it is, and is slow)."""
    wide = texts.str.contains(r"[^\x00-\x7F]").fill_null(False)
    if not wide.any():
        return texts
    rows = wide.arg_true()
    return texts.scatter(rows, texts.gather(rows).str.normalize("NFKC").str.to_lowercase())
