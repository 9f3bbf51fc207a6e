"""Markdown pieces of the dataset card."""

from __future__ import annotations

from typing import Any


def cell(value: Any) -> str:
    """``value`` as one table cell: pipes escaped, on one line."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
