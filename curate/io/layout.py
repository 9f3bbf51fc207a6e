"""What a run folder holds: the names curate owns in it (see :mod:`curate.io.owned`)."""

from __future__ import annotations

from ..manifest import MANIFEST

RUN_FILES = (MANIFEST, "data.parquet", "report.html", "bias.json", "pairs.parquet",
             "merged.parquet")
RUN_FOLDERS = ("stages", "rejected", "export", "cache", "select")
RUN_LAYOUT = RUN_FILES + RUN_FOLDERS
