"""The identity-term lexicon and the group mentions it finds.

The lexicon ships as package data (``curate/data/identity_terms.json``, with its sources named
in the file): categories (gender, religion, race_ethnicity, nationality, sexual_orientation,
disability, age) of groups, each a list of terms. A record mentions a group where one of the
group's terms occurs as a whole word or phrase, case-insensitively (white space inside a phrase
may be any run of white space). A category may list ``exclude`` phrases, where its terms do not
count because they name an object rather than people ("male connector", "gypsy moth", "Arab
horses"); colour words alone ("black pigeons", "white paint") are never terms: the race groups'
terms are a colour word with a people noun ("black people", "white voters"). A custom lexicon
is a JSON file of the same shape.

    lex = load_lexicon()                      # or load_lexicon("my_terms.json")
    df.with_columns(lex.groups_expr(pl.col("text")).alias("bias_groups"))   # ["age/older", ...]
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import polars as pl

from ..errors import CurateError

DEFAULT_LEXICON = "identity_terms.json"
_TERM = re.compile(r"^[\w'’ -]+$")
_NAME = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class Lexicon:
    """``categories``: category -> group -> terms; ``sources``: where the terms come from."""

    categories: dict[str, dict[str, tuple[str, ...]]]
    sources: tuple[str, ...]
    path: str
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)  # category -> phrases

    def group_keys(self) -> list[str]:
        """Every group as ``category/group``."""
        return [f"{c}/{g}" for c, groups in self.categories.items() for g in groups]

    def groups_expr(self, text: pl.Expr) -> pl.Expr:
        """The ``category/group`` keys of the groups that ``text`` mentions (a list, in lexicon
        order; empty when none)."""
        hits = []
        for c, groups in self.categories.items():
            # an excluded phrase is blanked out before the category's terms are looked for
            seen = (text.str.replace_all(term_regex(self.exclude[c]), " ")
                    if self.exclude.get(c) else text)
            hits += [pl.when(seen.str.contains(term_regex(terms))).then(pl.lit(f"{c}/{g}"))
                     for g, terms in groups.items()]
        if not hits:
            return pl.lit([], pl.List(pl.String))
        return pl.concat_list(hits).list.drop_nulls()


def category_expr(groups: pl.Expr, category: str) -> pl.Expr:
    """The groups of one category (without the ``category/`` prefix) from a ``bias_groups``
    list."""
    prefix = f"{category}/"
    return groups.list.eval(
        pl.element().filter(pl.element().str.starts_with(prefix)).str.strip_prefix(prefix))


def term_regex(terms: tuple[str, ...]) -> str:
    """A case-insensitive regex matching any of ``terms`` as whole words."""
    alts = sorted((re.escape(t.lower()).replace(r"\ ", " ").replace(" ", r"\s+")
                   .replace(r"\-", "-") for t in terms), key=len, reverse=True)
    return r"(?i)\b(?:" + "|".join(alts) + r")\b"


def _parse(data: object, where: str) -> Lexicon:
    if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
        raise CurateError(f"{where}: expected a JSON object with 'categories': "
                          "{category: {group: [terms]}}")
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise CurateError(f"{where}: field 'sources': expected a list of strings")
    categories: dict[str, dict[str, tuple[str, ...]]] = {}
    for cat, groups in data["categories"].items():
        if not _NAME.match(cat) or not isinstance(groups, dict) or not groups:
            raise CurateError(f"{where}: field 'categories.{cat}': expected a lower-case "
                              "snake_case name mapping to {group: [terms]}")
        categories[cat] = {}
        for group, terms in groups.items():
            field = f"categories.{cat}.{group}"
            if not _NAME.match(group):
                raise CurateError(f"{where}: field '{field}': group names are lower-case "
                                  "snake_case")
            if (not isinstance(terms, list) or not terms
                    or not all(isinstance(t, str) and _TERM.match(t) for t in terms)):
                raise CurateError(f"{where}: field '{field}': expected a non-empty list of "
                                  "terms (letters, digits, spaces, hyphens, apostrophes)")
            categories[cat][group] = tuple(terms)
    exclude = data.get("exclude", {})
    if not isinstance(exclude, dict):
        raise CurateError(f"{where}: field 'exclude': expected {{category: [phrases]}}")
    for cat, phrases in exclude.items():
        if cat not in categories:
            raise CurateError(f"{where}: field 'exclude.{cat}': no such category")
        if (not isinstance(phrases, list)
                or not all(isinstance(t, str) and _TERM.match(t) for t in phrases)):
            raise CurateError(f"{where}: field 'exclude.{cat}': expected a list of phrases "
                              "(letters, digits, spaces, hyphens, apostrophes)")
    return Lexicon(categories, tuple(sources), where,
                   {c: tuple(p) for c, p in exclude.items() if p})


@lru_cache(maxsize=4)
def load_lexicon(path: str | None = None) -> Lexicon:
    """The shipped lexicon, or the JSON file at ``path``."""
    if path is None:
        ref = resources.files("curate") / "data" / DEFAULT_LEXICON
        return _parse(json.loads(ref.read_text(encoding="utf-8")), f"curate/data/{DEFAULT_LEXICON}")
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CurateError(f"{path}: lexicon file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CurateError(f"{path}: not a JSON lexicon: {exc}") from None
    return _parse(data, str(path))
