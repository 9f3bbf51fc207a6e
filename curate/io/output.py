"""Output folders: checked before a command works, and OS errors while writing as one line.

    prepare_output("runs/x")        creates the folder and checks that a file can be written in it
    with writing("runs/x"): ...     an OS error inside (a full disk) as a CurateError naming it
    os_error_message(exc)           "runs/x/data.parquet: no space left on device (errno 28); ..."
    write_parquet(df, path)         polars' writer, its OS errors kept (see the function)

Both raise or return text without a traceback: a folder that is a file, a folder where nothing
may be written and a full disk are things a user fixes by choosing another ``-o`` or freeing
space, not bugs.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import CurateError

_WAY_ON = {
    errno.ENOSPC: "free some space or write elsewhere with -o",
    errno.EDQUOT: "free some space or write elsewhere with -o",
    errno.EACCES: "choose a folder you may write to with -o",
    errno.EPERM: "choose a folder you may write to with -o",
    errno.EROFS: "the file system is read-only; choose another folder with -o",
    errno.ENOTDIR: "a file stands where a folder is needed; choose another -o",
    errno.EEXIST: "a file stands where a folder is needed; choose another -o",
    errno.EISDIR: "a folder stands where a file is written; move it away or choose another -o",
}
_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def prepare_output(path: str | Path, *, flag: str = "-o") -> None:
    """Check that the output folder ``path`` can be made and written (nothing is left behind);
    CurateError with one line saying why not. A URL is checked when it is written."""
    from .remote import is_url

    if is_url(path):
        return
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
        raise CurateError(f"{flag} {path}: cannot write in {there}: {_describe(exc)}") from None


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


def write_parquet(df, path: str | Path, **options) -> None:
    """``df.write_parquet(path, **options)``. When the write fails while polars writes the
    footer, it reports ``Invalid thrift: transport error`` without the OS error (the whole file
    was still in its buffer: small files with many nested columns); a plain write to the same
    file then says what it was (a full disk: OSError ENOSPC)."""
    try:
        df.write_parquet(path, **options)
    except Exception as exc:  # polars.exceptions.ComputeError
        if "transport error" not in str(exc):
            raise
        try:
            with open(path, "ab") as probe:
                probe.write(bytes(1 << 16))
        except OSError as io_error:
            raise io_error from None
        raise


def os_errno(exc: BaseException) -> int | None:
    """The OS error number of an OSError, or of a library error that quotes one (polars'
    ``... (os error 28)``)."""
    if isinstance(exc, OSError) and exc.errno:
        return exc.errno
    found = _OS_ERROR.search(str(exc))
    return int(found.group(1)) if found else None


def os_error_message(exc: BaseException) -> str | None:
    """One line for an OS error (with the file, what happened and the way on); None when
    ``exc`` is not one."""
    code = os_errno(exc)
    if code is None:
        return None
    file = getattr(exc, "filename", None)
    where = f"{file}: " if file else ""
    return f"{where}{_describe(exc)}"


def _describe(exc: BaseException) -> str:
    code = os_errno(exc)
    what = os.strerror(code).lower() if code else str(exc)
    way = _WAY_ON.get(code)
    return f"{what} (errno {code})" + (f"; {way}" if way else "")
