"""Progress bars on stderr (tqdm), off when stderr is not a terminal unless forced."""

from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm


def progress_enabled() -> bool:
    forced = os.environ.get("CURATE_PROGRESS")
    if forced is not None:
        return forced not in ("0", "false", "no", "")
    return sys.stderr.isatty()


def bar(*, total: int | None, desc: str, unit: str = "rows") -> tqdm:
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                disable=not progress_enabled(), dynamic_ncols=True)
