"""Ctrl-C and ``kill``: SIGINT and SIGTERM stop a command the same way.

    install()                 the CLI's handlers: either signal raises :class:`Interrupted`
    with held(): ...          a signal that comes inside is raised when the block ends
    quiet_thread()            in a worker thread: signals go to the main thread
    received()                the first signal this process got (its name), or None
    with kept(): ...          the handlers stay installed over code that replaces them

:class:`Interrupted` is a ``KeyboardInterrupt``, so whatever handles Ctrl-C handles ``kill``
too: the runner marks the run and its running stage ``interrupted`` (:mod:`curate.runner`),
and the CLI says so in one line and exits 130. The library installs no handler by itself.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

EXIT_CODE = 130
SIGNALS = (signal.SIGINT, signal.SIGTERM)

_first: str | None = None      # the first signal received
_pending: int | None = None    # a signal that came while held
_holding = 0


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM; ``signal_name`` says which."""

    def __init__(self, signum: int | str = signal.SIGINT):
        # a name too: an exception is unpickled from its args
        self.signal_name = (signum if isinstance(signum, str)
                            else signal.Signals(signum).name)
        super().__init__(self.signal_name)


def _handler(signum: int, frame) -> None:
    global _first, _pending
    if _first is None:
        _first = signal.Signals(signum).name
    if _holding:
        _pending = signum
        return
    raise Interrupted(signum)


def install() -> None:
    """SIGINT and SIGTERM raise :class:`Interrupted` in the main thread (where Python runs
    signal handlers); call it from the main thread of a command-line entry point."""
    for signum in SIGNALS:
        signal.signal(signum, _handler)


def quiet_thread() -> None:
    """First thing in a worker thread: SIGINT and SIGTERM are delivered to the other threads,
    so that the main thread (the only one where Python runs handlers) wakes up to them at once
    rather than when its wait ends."""
    if hasattr(signal, "pthread_sigmask"):  # POSIX
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)


def installed() -> bool:
    return signal.getsignal(signal.SIGTERM) is _handler


def received() -> str | None:
    return _first


@contextmanager
def held() -> Iterator[None]:
    """Defer a signal until the block (writing a run's final status) has finished."""
    global _holding, _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _holding += 1
    try:
        yield
    finally:
        _holding -= 1
        if not _holding and _pending is not None:
            signum, _pending = _pending, None
            raise Interrupted(signum)


@contextmanager
def kept() -> Iterator[None]:
    """Keep the handlers of :func:`install` over a block that replaces them (``ray.init``
    sets its own SIGTERM handler, which exits without saying the run was interrupted)."""
    if not installed() or threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        yield
    finally:
        install()
