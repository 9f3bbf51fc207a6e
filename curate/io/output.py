"""Output folders: checked before a command works, and OS errors while writing as one line.

    prepare_output("runs/x", inputs=[src])   checks that the folder can be made and written,
                                    that it does not overlap the input, and that curate may
                                    write there (see curate.io.owned)
    with writing("runs/x"): ...     an OS error inside (a full disk) as a CurateError naming it

OS errors are put in words by :mod:`curate.os_errors`; :func:`curate.io.parquet.write_parquet`
keeps the OS error of a failed parquet write.

Both raise or return text without a traceback: a folder that is a file, a folder where nothing
may be written and a full disk are things a user fixes by choosing another ``-o`` or freeing
space, not bugs.
"""

from __future__ import annotations

import re
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePath, PurePosixPath
from typing import Any, Iterable, Iterator

from ..errors import CurateError
from ..os_errors import describe, os_error_message
from .dispatch import is_run_folder
from .owned import check_export_output, check_run_output, read_remote_manifest, shown
from .remote import is_url, open_url, protocols



def prepare_output(path: str | Path, *, flag: str = "-o", inputs: Iterable[Any] = (),
                   export: Iterable[str] | None = None, overwrite: bool = False) -> None:
    """Check, before any work, that the output folder ``path`` can be made and written (nothing
    is left behind); CurateError with one line saying why not.

    ``inputs``: the datasets the command reads; the output may not be one of them, lie inside
    one (but in a run folder's export/) or hold one. ``export``: the files an export writes
    (see :func:`curate.io.owned.check_export_output`, with ``overwrite``); without it the
    folder must be fit for a run (:func:`curate.io.owned.check_run_output`).
    """
    for given in inputs:
        if given is not None:
            check_overlap(given, path, flag=flag)
    if export is None:  # before the write check: a refusal names the user's file anyway
        check_run_output(path, flag=flag)
    else:
        check_export_output(path, export, overwrite=overwrite, flag=flag)
    if not is_url(path):
        _check_local(path, flag)


def _check_local(path: str | Path, flag: str) -> None:
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise CurateError(f"{flag} {path}: this is a file, not a folder; give a folder to "
                          "write into (it is created if missing)")
    there = p
    while not there.exists() and there != there.parent:
        there = there.parent
    if not there.is_dir():
        raise CurateError(f"{flag} {path}: {there} is a file, so no folder can be made in it; "
                          "choose another -o")
    try:
        with tempfile.TemporaryFile(dir=there):
            pass
    except OSError as exc:
        raise CurateError(f"{flag} {path}: cannot write in {there}: {describe(exc)}") from None


def check_overlap(given: Any, out: str | Path, *, flag: str = "-o") -> None:
    """CurateError when the output ``out`` is the input ``given``, lies inside it, or holds it:
    curate would write over its input or read its own output as input next time. An output in
    the export/ folder of a run folder given as input is fine (the run is read as its
    data.parquet alone). URLs are compared by protocol and path, without a request, except
    one to tell whether an input URL is a run folder."""
    where_in, where_out = _location(given), _location(out)
    if where_in is None or where_out is None or where_in[0] != where_out[0]:
        return
    a, o = where_in[1], where_out[1]
    is_run = _is_run(given) if a in o.parents else False
    given, out = shown(given), shown(out)
    if a == o:
        raise CurateError(f"{flag} {out}: this is the input {given}; write to another folder "
                          "(curate never writes over its input)")
    if o in a.parents:
        raise CurateError(f"{flag} {out}: the input {given} is inside this folder; write to a "
                          "folder outside it (curate never writes over its input)")
    if a in o.parents:
        if a / "export" in o.parents and is_run:
            return
        raise CurateError(f"{flag} {out}: this folder is inside the input {given}, so reading "
                          f"{given} would read the output too; write outside {given}"
                          + (" (or into its export/ folder)" if is_run else ""))


def _location(x: Any) -> tuple[str, PurePath] | None:
    """(file system, absolute path) of a local path or URL; a glob is cut to its folder."""
    if not is_url(x):
        return "local", Path(x).expanduser().resolve()
    try:
        fs, path = open_url(str(x))
    except CurateError:
        return None  # an unusable URL: its own command says why
    cut = re.search(r"[*?\[]", path)
    path = (path[:path.rfind("/", 0, cut.start())] if cut else path).rstrip("/")
    names = protocols(fs)
    if "file" in names or "local" in names:
        return "local", Path(path or "/").resolve()
    return names[0], PurePosixPath("/" + path.lstrip("/"))


def _is_run(given: Any) -> bool:
    if is_url(given):
        return read_remote_manifest(str(given)) is not None
    return is_run_folder(Path(given))


@contextmanager
def writing(path: str | Path, *, flag: str = "-o") -> Iterator[None]:
    """Run the block; an OS error in it (also one a library quotes, such as polars' parquet
    writer on a full disk) becomes a CurateError naming the file, or else ``flag path``."""
    try:
        yield
    except CurateError:
        raise
    except Exception as exc:
        message = os_error_message(exc)
        if message is None:
            raise
        if getattr(exc, "filename", None) is None:
            message = f"{flag} {path}: {message}"
        raise CurateError(message) from None
