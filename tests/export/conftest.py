"""Small record builders for the export tests."""

from __future__ import annotations

import pytest

from curate.records import assign_ids, records_to_frame


def _turns(*pairs):
    return [{"role": r, "content": c} for r, c in pairs]


def sft(user, reply, source="a", *, system=None, meta=None, **extra):
    msgs = ([("system", system)] if system else []) + [("user", user), ("assistant", reply)]
    return {"kind": "sft", "messages": _turns(*msgs), "source": source, "meta": meta or {},
            **extra}


def pref(user, chosen, rejected, source="b", **extra):
    return {"kind": "preference", "prompt": _turns(("user", user)),
            "chosen": _turns(("assistant", chosen)), "rejected": _turns(("assistant", rejected)),
            "source": source, "meta": {}, **extra}


def frame(records):
    return records_to_frame(assign_ids(records))


class Builders:
    turns = staticmethod(_turns)
    sft = staticmethod(sft)
    pref = staticmethod(pref)
    frame = staticmethod(frame)


@pytest.fixture
def b() -> Builders:
    return Builders()
