"""Named inputs of row and document files, converted in one pass as if they were one input's
files (each file's task carries its input's settings and name)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import CurateError, InputError
from .dataset import named_error
from .file_task import FileTask
from .stream import PartsResult, convert_files, file_tasks


def convert_named_files(sources: list[Source], settings: list[Settings], kept_dir: Path,
                        rejected_dir: Path, *, engine, limit: int | None, rows: int,
                        scratch: Path | None) -> PartsResult:
    """Named inputs of row and document files, converted as one input's files."""

    def tasks(folder: Path) -> list[FileTask]:
        out: list[FileTask] = []
        for s, setting in zip(sources, settings):
            try:
                found = file_tasks(s.path, setting, folder, rows)
                if not found:
                    what = "document" if s.format == "docs" else "row"
                    raise InputError(f"no {what} files to read for format {s.format}",
                                     file=str(s.path))
            except CurateError as exc:
                raise named_error(exc, s.name) from None
            out += [replace(t, index=len(out) + i) for i, t in enumerate(found)]
        return out

    return convert_files(None, kept_dir, rejected_dir, engine=engine, limit=limit, rows=rows,
                         scratch=scratch, tasks=tasks)
