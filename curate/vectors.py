"""Embeddings on disk: an ``n x dim`` float32 matrix in a ``.npy`` file, read memory-mapped.

The global stages (``dedup.semantic``, ``decontam.semantic``, ``select.diverse``) keep their
embeddings here instead of in memory: workers write the rows of their pieces into the file
(:meth:`Vectors.write`, plain positioned writes, so that workers on other nodes sharing the
storage never overwrite each other's rows), and the searches read it in blocks
(:meth:`Vectors.array`: a read-only ``np.memmap``, whose pages are the operating system's file
cache, not the process's memory). :class:`Vectors` is a small picklable handle, so a Ray task
gets the file's name, never the matrix.

    vectors = Vectors.create(folder / "emb.npy", rows=n, dim=384)   # zeros
    vectors.write(np.array([5, 6, 9]), values)                      # rows 5, 6 and 9
    X = vectors.array()                                             # (n, 384) memmap
    RowView(X, rows)                                                # some rows of it

A row never written stays zero (a record without text: its cosine with every row is 0).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DTYPE = np.dtype("<f4")


@dataclass(frozen=True)
class Vectors:
    """``rows x dim`` float32 in the ``.npy`` file ``path`` (data from byte ``offset``)."""

    path: str
    rows: int
    dim: int
    offset: int

    @classmethod
    def create(cls, path: str | Path, rows: int, dim: int) -> Vectors:
        """A file of zeros (sparse where the file system allows) of that shape."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"descr": np.lib.format.dtype_to_descr(DTYPE), "fortran_order": False,
                  "shape": (int(rows), int(dim))}
        with open(path, "wb") as f:
            np.lib.format.write_array_header_1_0(f, header)
            offset = f.tell()
            f.truncate(offset + int(rows) * int(dim) * DTYPE.itemsize)
        return cls(str(path), int(rows), int(dim), offset)

    @classmethod
    def from_array(cls, path: str | Path, X: np.ndarray) -> Vectors:
        """``X`` written to ``path`` (tests, small data)."""
        X = np.asarray(X, dtype=DTYPE)
        vectors = cls.create(path, X.shape[0], X.shape[1])
        vectors.write(np.arange(X.shape[0]), X)
        return vectors

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows, self.dim

    def array(self) -> np.ndarray:
        """The matrix, memory-mapped read-only (rows written since are seen)."""
        if self.rows == 0 or self.dim == 0:
            return np.zeros((self.rows, self.dim), DTYPE)
        return np.memmap(self.path, DTYPE, "r", offset=self.offset, shape=self.shape)

    def write(self, rows: np.ndarray, values: np.ndarray) -> None:
        """``values[i]`` as row ``rows[i]`` (runs of consecutive rows in one write each)."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        values = np.ascontiguousarray(values, dtype=DTYPE).reshape(len(rows), self.dim)
        order = np.argsort(rows, kind="stable")
        rows, values = rows[order], values[order]
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        width = self.dim * DTYPE.itemsize
        fd = os.open(self.path, os.O_WRONLY)
        try:
            for start, end in zip(np.r_[0, breaks], np.r_[breaks, len(rows)]):
                data = values[start:end].tobytes()
                at = self.offset + int(rows[start]) * width
                while data:  # pwrite may write less than asked
                    done = os.pwrite(fd, data, at)
                    data, at = data[done:], at + done
        finally:
            os.close(fd)

    def remove(self) -> None:
        Path(self.path).unlink(missing_ok=True)


class RowView:
    """Rows of a matrix (a :class:`Vectors` file or an array; ``rows``: which, in order, or
    all) as the selection algorithms read them: ``shape``, ``len``, ``view[a:b]`` and
    ``view[index]`` give arrays of just those rows, read from the file when they are asked
    for. It pickles as the file's handle and the row numbers (what a Ray actor gets)."""

    def __init__(self, source, rows: np.ndarray | None = None):
        self.source = source
        self.rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        self._array = None

    def __getstate__(self):
        return {"source": self.source, "rows": self.rows, "_array": None}

    @property
    def base(self) -> np.ndarray:
        """The whole matrix (memory-mapped for a file)."""
        if self._array is None:
            self._array = (self.source.array() if isinstance(self.source, Vectors)
                           else self.source)
        return self._array

    @property
    def shape(self) -> tuple[int, int]:
        rows, dim = self.source.shape
        return (rows if self.rows is None else len(self.rows)), dim

    @property
    def ndim(self) -> int:
        return 2

    @property
    def dtype(self):
        return DTYPE if isinstance(self.source, Vectors) else self.source.dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        if self.rows is not None:
            key = self.rows[key]
        return np.asarray(self.base[key])

    def subset(self, rows: np.ndarray) -> RowView:
        """These rows of the view (positions in it) as a view of the same matrix."""
        rows = np.asarray(rows, dtype=np.int64)
        return RowView(self.source, rows if self.rows is None else self.rows[rows])


def view(X, rows: np.ndarray | None = None) -> RowView:
    """``X`` (a :class:`Vectors`, an array or a view) or ``rows`` of it, as a :class:`RowView`."""
    if not isinstance(X, RowView):
        X = RowView(X)
    return X if rows is None else X.subset(rows)
