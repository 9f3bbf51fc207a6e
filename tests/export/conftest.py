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


def sample_sft(n, *, every=4, tool=False):
    """n simple records (source b for every ``every``-th), a unicode one with a system turn, and
    a multi-turn one (with a tool call when ``tool``)."""
    records = [sft(f"Question {i}: what is {i} + {i}?", f"It is {2 * i}.",
                   "a" if i % every else "b") for i in range(n)]
    records.append(sft("Ünïcode — 日本語?", "はい, ça marche ✓", "b", system="Be brief."))
    middle = [("assistant", "Let me look."), ("tool", '{"sky": "sun"}')] if tool else []
    records.append({"kind": "sft", "source": "a", "meta": {}, "messages": _turns(
        ("system", "You are helpful."), ("user", "Hi"), ("assistant", "Hello!"),
        ("user", "Weather?"), *middle, ("assistant", "Sunny."))})
    return records


def frame(records):
    return records_to_frame(assign_ids(records))


class Builders:
    turns = staticmethod(_turns)
    sft = staticmethod(sft)
    pref = staticmethod(pref)
    frame = staticmethod(frame)
    sample_sft = staticmethod(sample_sft)


@pytest.fixture
def b() -> Builders:
    return Builders()
