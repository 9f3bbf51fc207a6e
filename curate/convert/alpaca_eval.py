"""AlpacaEval files: model outputs (SFT) and pairwise annotations (preference).

Outputs rows: ``instruction``, ``output``, ``generator``, ``dataset`` (the last two in meta).
Annotation rows: ``instruction``, ``output_1``, ``output_2``, ``preference`` in [1, 2]; below 1.5
output_1 is chosen, above it output_2, 1.5 is a tie (rejected). Scores stay null.
"""

from __future__ import annotations

from ..errors import RowError
from .common import extras, number, preference, require, sft, text, turn

NAME = "alpaca-eval"  # the user-facing name of both formats below
_DROPPED = ("raw_completion", "price_per_example", "time_per_example")


class Outputs:
    NAME = "alpaca-eval-outputs"
    KIND = "sft"
    USED = ("instruction", "output")

    @staticmethod
    def matches(keys: set[str]) -> bool:
        return {"instruction", "output", "generator"} <= keys

    @staticmethod
    def to_records(data: dict) -> list[dict]:
        msgs = [turn("user", text(require(data, "instruction"), "instruction")),
                turn("assistant", text(require(data, "output"), "output"))]
        return [sft(msgs, "output", extras(data, Outputs.USED))]


class Annotations:
    NAME = "alpaca-eval-annotations"
    KIND = "preference"
    USED = ("instruction", "output_1", "output_2", *_DROPPED)

    @staticmethod
    def matches(keys: set[str]) -> bool:
        return {"instruction", "output_1", "output_2", "preference"} <= keys

    @staticmethod
    def to_records(data: dict) -> list[dict]:
        pref = number(require(data, "preference"), "preference")
        if pref is None:
            raise RowError("missing_field", "missing field 'preference'", field="preference")
        if not 1.0 <= pref <= 2.0:
            raise RowError("invalid_value", f"preference must be in [1, 2], got {pref}",
                           field="preference")
        if abs(pref - 1.5) <= 1e-9:
            raise RowError("tie", "preference 1.5 is a tie: no reply is preferred",
                           field="preference")
        prompt = [turn("user", text(require(data, "instruction"), "instruction"))]
        one = [turn("assistant", text(require(data, "output_1"), "output_1"))]
        two = [turn("assistant", text(require(data, "output_2"), "output_2"))]
        chosen, rejected = (one, two) if pref < 1.5 else (two, one)
        fields = ("instruction",) + (("output_1", "output_2") if pref < 1.5
                                     else ("output_2", "output_1"))
        return [preference(prompt, chosen, rejected, extras(data, Annotations.USED),
                           fields=fields)]


KIND = "mixed"  # per row: annotations are preference, outputs SFT


def pick(keys: set[str]) -> type:
    """The AlpacaEval format of a row (annotations when it has their keys)."""
    return Annotations if Annotations.matches(keys) else Outputs


def matches(keys: set[str]) -> bool:
    return Annotations.matches(keys) or Outputs.matches(keys)


def to_records(data: dict) -> list[dict]:
    return pick(set(data)).to_records(data)
