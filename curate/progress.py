"""Progress bars on stderr (tqdm), off when stderr is not a terminal unless forced.

tqdm is imported only for a bar that shows: ``tqdm.auto`` imports asyncio, a fixed cost that
a command whose bars are off (output piped, ``CURATE_PROGRESS=0``) need not pay.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def progress_enabled() -> bool:
    forced = os.environ.get("CURATE_PROGRESS")
    if forced is not None:
        return forced not in ("0", "false", "no", "")
    return sys.stderr.isatty()


class _Off:
    """A bar that does not show: it only counts (``n``), as a tqdm bar does."""

    def __init__(self, total: int | None) -> None:
        self.total, self.n = total, 0

    def __enter__(self) -> _Off:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def update(self, n: float = 1) -> None:
        self.n += n

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        return None

    def close(self) -> None:
        return None


def bar(*, total: int | None, desc: str, unit: str = "rows"):
    """A tqdm bar (a context manager with ``update``), or one that does nothing when bars
    are off."""
    if not progress_enabled():
        return _Off(total)
    from tqdm.auto import tqdm  # startup

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                dynamic_ncols=True)
