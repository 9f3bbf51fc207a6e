"""User-facing failures. Every error a user can cause is a CurateError subclass.

The CLI prints ``str(error)`` on stderr and exits with code 1, without a traceback.
"""

from __future__ import annotations


class CurateError(Exception):
    """Base class of every user-facing failure."""


class InputError(CurateError):
    """Bad input data: names the file, the line (or row) and the field when known."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.file, self.line, self.field, self.detail = file, line, field, message
        where = ""
        if file is not None:
            where = str(file)
            if line is not None:
                where += f":{line}"
            where += ": "
        if field is not None:
            where += f"field '{field}': "
        super().__init__(where + message)


class RecipeError(CurateError):
    """An invalid recipe; ``path`` is where in the recipe, e.g. ``stages[2].with.max``."""

    def __init__(self, message: str, *, path: str | None = None, file: str | None = None):
        self.path, self.file, self.detail = path, file, message
        prefix = f"{file}: " if file else ""
        if path:
            prefix += f"{path}: "
        super().__init__(prefix + message)


class StageError(CurateError):
    """A stage failed in a way the user can act on (bad option, missing column, model error)."""


class AccountingError(CurateError):
    """A stage lost or invented rows: rows_in + added != rows_out + sum(dropped)."""


class RowError(Exception):
    """One input row cannot become a record; becomes an InputError or a rejected row.

    Not a CurateError: it never reaches the user on its own, the reader or converter wraps it
    with the file and line.
    """

    def __init__(self, reason: str, message: str, *, field: str | None = None):
        self.reason, self.message, self.field = reason, message, field
        super().__init__(message)
