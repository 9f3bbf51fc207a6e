"""An OS error (a full disk, a folder that may not be written) as the one line the CLI prints:
the file, what happened and the way on.

    os_error_message(exc)   "runs/x/data.parquet: no space left on device (errno 28); ..."
"""

from __future__ import annotations

import errno
import os
import re

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
    return f"{where}{describe(exc)}"


def describe(exc: BaseException) -> str:
    """What happened (the OS's words and the errno) and the way on, without the file."""
    code = os_errno(exc)
    what = os.strerror(code).lower() if code else str(exc)
    way = _WAY_ON.get(code)
    return f"{what} (errno {code})" + (f"; {way}" if way else "")
