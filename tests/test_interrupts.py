"""curate.interrupts in this process: SIGTERM raised like Ctrl-C, deferred while held, and kept
over code that installs its own handler (as ray.init does)."""

from __future__ import annotations

import signal

import pytest

from curate import interrupts


@pytest.fixture
def handlers(monkeypatch):
    saved = {s: signal.getsignal(s) for s in interrupts.SIGNALS}
    monkeypatch.setattr(interrupts, "_first", None)
    interrupts.install()
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def test_sigterm_is_an_interrupt_that_says_which_signal(handlers):
    with pytest.raises(KeyboardInterrupt) as caught:
        signal.raise_signal(signal.SIGTERM)
    assert isinstance(caught.value, interrupts.Interrupted)
    assert caught.value.signal_name == "SIGTERM" and interrupts.received() == "SIGTERM"


def test_a_signal_while_held_is_raised_when_the_block_ends(handlers):
    done = []
    with pytest.raises(interrupts.Interrupted, match="SIGINT"):
        with interrupts.held():
            signal.raise_signal(signal.SIGINT)
            done.append("the block went on")
    assert done == ["the block went on"]


def test_the_handlers_are_kept_over_code_that_replaces_them(handlers):
    with interrupts.kept():
        signal.signal(signal.SIGTERM, lambda *a: None)  # like ray.init's sys.exit handler
    assert interrupts.installed()
    with pytest.raises(interrupts.Interrupted):
        signal.raise_signal(signal.SIGTERM)
