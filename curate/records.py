"""Record kinds and their column contract.

A run holds one polars frame with the union of both record kinds' columns and a ``kind`` column
(``sft`` or ``preference``); the columns of the other kind are null. Conversations are lists of
``{"role", "content"}`` structs in TRL's conversational form. ``meta`` is a JSON object in the
models and in JSONL exports, and a JSON-encoded string inside parquet checkpoints (parquet has no
schemaless object type).

Tool use: an assistant turn may carry ``tool_calls`` (OpenAI's and TRL's shape, a list of
``{"id", "type": "function", "function": {"name", "arguments"}}``) and a tool turn the
``tool_call_id`` it answers; both are null on other turns. ``arguments`` is the JSON text of the
arguments object, as OpenAI sends it: every message struct of every frame, batch and file has
one fixed type (an object's keys differ from tool to tool, and Arrow would give each call the
union of them as nulls). Frames written before these fields existed are read with them null
(:func:`conform`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any, Iterable, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .errors import RowError
from .record_schema import MESSAGE_COLUMNS, MESSAGES, TOOL_FIELDS
from .records_frame import frame_of

Role = Literal["system", "user", "assistant", "tool"]
class ToolFunction(BaseModel):
    """The function a tool call invokes."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    arguments: str
    """The JSON text of the arguments object (as OpenAI sends it)."""


class ToolCall(BaseModel):
    """One call of an assistant turn's ``tool_calls``."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    type: Literal["function"] = "function"
    function: ToolFunction


class Message(BaseModel):
    """One turn of a conversation. An assistant turn that only calls tools has empty content."""

    model_config = ConfigDict(extra="forbid")
    role: Role
    content: str
    tool_calls: list[ToolCall] | None = Field(default=None, min_length=1)
    """The tools an assistant turn calls (assistant turns only)."""
    tool_call_id: str | None = None
    """The id of the call a tool turn answers (tool turns only)."""

    @model_validator(mode="after")
    def _tool_fields_on_their_roles(self) -> "Message":
        if self.tool_calls is not None and self.role != "assistant":
            raise ValueError(f"only an assistant turn calls tools, not a {self.role} turn")
        if self.tool_call_id is not None and self.role != "tool":
            raise ValueError(f"only a tool turn has a tool_call_id, not a {self.role} turn")
        return self


class SFTRecord(BaseModel):
    """An instruction/response conversation; ``messages`` ends with an assistant turn."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=2)
    source: str
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("messages")
    @classmethod
    def _ends_with_assistant(cls, messages: list[Message]) -> list[Message]:
        if messages[-1].role != "assistant":
            raise ValueError("the last message must be an assistant turn")
        return messages


class PreferenceRecord(BaseModel):
    """A prompt with a preferred (``chosen``) and a dispreferred (``rejected``) reply."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    prompt: list[Message] = Field(min_length=1)
    chosen: list[Message] = Field(min_length=1)
    rejected: list[Message] = Field(min_length=1)
    chosen_score: float | None = None
    rejected_score: float | None = None
    source: str
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("prompt")
    @classmethod
    def _prompt_ends_with_user(cls, prompt: list[Message]) -> list[Message]:
        if prompt[-1].role != "user":
            raise ValueError("the prompt must end with a user turn")
        return prompt

    @field_validator("chosen", "rejected")
    @classmethod
    def _assistant_reply(cls, reply: list[Message]) -> list[Message]:
        if reply[0].role != "assistant":
            raise ValueError("a reply must start with an assistant turn")
        return reply


class PromptRecord(BaseModel):
    """A prompt waiting for its reply (input of ``generate.responses`` and ``generate.evolve``):
    ``prompt`` ends with a user turn. Generation turns it into an SFT record."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    prompt: list[Message] = Field(min_length=1)
    source: str
    meta: dict[str, Any] = Field(default_factory=dict)

    _prompt_ends_with_user = field_validator("prompt")(
        PreferenceRecord._prompt_ends_with_user.__func__)


class PassageRecord(PromptRecord):
    """A passage of a raw document (input of ``generate.questions``): its text is the one user
    turn of ``prompt``; ``meta`` holds the file, the character offsets and the section."""

    prompt: list[Message] = Field(min_length=1, max_length=1)


MODELS = {"sft": SFTRecord, "preference": PreferenceRecord, "prompt": PromptRecord,
          "passage": PassageRecord}


def content_hash(*parts: Any) -> str:
    """A stable 16-hex-digit hash of JSON-serialisable parts."""
    blob = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:16]


def _turn_key(t: dict) -> str:
    key = f"{t.get('role')}\x1f{t.get('content')}"
    if t.get("tool_calls") or t.get("tool_call_id"):  # only then: older records keep their ids
        key += "\x1f" + json.dumps([t.get("tool_calls"), t.get("tool_call_id")],
                                    ensure_ascii=False, sort_keys=True)
    return key


def _turns_key(turns: list[dict] | None) -> str:
    return "\x1e".join(_turn_key(t) for t in turns or ())


def _content_key(record: dict) -> str:
    if record["kind"] == "sft":
        return _turns_key(record["messages"])
    if record["kind"] in ("prompt", "passage"):
        return f"{record['kind']}\x1d{_turns_key(record['prompt'])}"
    return "\x1d".join(_turns_key(record[k]) for k in ("prompt", "chosen", "rejected"))


def record_id(source: str, record: dict, repeat: int = 0) -> str:
    """The id of a record that has none: sha1 of its source and turns (roles and contents),
    and of ``repeat`` for the n-th identical repeat from that source."""
    blob = f"{source}\x1c{_content_key(record)}" + (f"\x1c{repeat}" if repeat else "")
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:16]


def assign_ids(records: Iterable[dict]) -> list[dict]:
    """Give records without an ``id`` a stable one (:func:`record_id`).

    The n-th repeat of identical content from the same source gets ``n`` mixed into its hash, so
    ids stay unique and the same input always gives the same ids.
    """
    seen: Counter[str] = Counter()
    out = []
    for record in records:
        if not record.get("id"):
            base = record_id(record["source"], record)
            n = seen[base]
            seen[base] += 1
            record["id"] = base if n == 0 else record_id(record["source"], record, n)
        out.append(record)
    return out


_ROLES = frozenset(("system", "user", "assistant", "tool"))


def _turns_ok(turns: Any, *, first: str | None = None, last: str | None = None,
              min_len: int = 1) -> bool:
    if type(turns) is not list or len(turns) < min_len:
        return False
    for t in turns:
        if (type(t) is not dict or type(t.get("content")) is not str
                or t.get("role") not in _ROLES):
            return False
        if len(t) != 2 and not _no_tool_fields(t):  # the model checks tool turns
            return False
    return (first is None or turns[0]["role"] == first) and (
        last is None or turns[-1]["role"] == last)


def _no_tool_fields(t: dict) -> bool:
    """Only role and content, or the tool fields null (as rows of a frame have them)."""
    return len(t) <= 4 and all(k in ("role", "content") or (k in TOOL_FIELDS and t[k] is None)
                               for k in t)


def _score_ok(value: Any) -> bool:
    return value is None or type(value) in (int, float)


def _surely_valid(record: dict) -> bool:
    """A fast check that is never looser than the models: True only for records the models
    accept (the models still run, for their messages, when it says False)."""
    if type(record.get("id")) is not str or not record["id"] or type(record.get("source")) is not str:
        return False
    if type(record.get("meta", {})) is not dict:
        return False
    if record["kind"] == "sft":
        return _turns_ok(record.get("messages"), last="assistant", min_len=2)
    return (_turns_ok(record.get("prompt"), last="user")
            and _turns_ok(record.get("chosen"), first="assistant")
            and _turns_ok(record.get("rejected"), first="assistant")
            and _score_ok(record.get("chosen_score")) and _score_ok(record.get("rejected_score")))


def validate_record(record: dict) -> dict:
    """Check a record dict against its kind's model; raises RowError(reason="invalid_record")."""
    kind = record.get("kind")
    if kind not in MODELS:
        raise RowError("invalid_record", f"unknown record kind {kind!r}", field="kind")
    if _surely_valid(record):
        return record
    fields = {k: v for k, v in record.items() if k in MODELS[kind].model_fields}
    try:
        MODELS[kind].model_validate(fields)
    except Exception as exc:  # pydantic.ValidationError
        errors = getattr(exc, "errors", lambda: [])()
        if errors:
            first = errors[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise RowError("invalid_record", first["msg"], field=loc) from None
        raise RowError("invalid_record", str(exc)) from None
    return record


def records_to_frame(records: list[dict]) -> pl.DataFrame:
    """Build a frame in RECORD_SCHEMA from record dicts (``meta`` given as a dict); see
    :mod:`curate.records_frame`."""
    return frame_of(records)


def parse_meta(value: str | dict | None) -> dict[str, Any]:
    """A row's ``meta`` column (JSON text, or already decoded) as a dict; null: ``{}``."""
    if isinstance(value, dict):
        return value
    return (json.loads(value) if value else None) or {}


def frame_to_records(df: pl.DataFrame, *, columns: Iterable[str] | None = None) -> list[dict]:
    """Rows as dicts with ``meta`` decoded and the other kind's null columns left out; turns
    carry ``tool_calls``/``tool_call_id`` only where they are set."""
    keep = list(columns) if columns is not None else None
    out = []
    for row in df.iter_rows(named=True):
        if "meta" in row and isinstance(row["meta"], str):
            row["meta"] = json.loads(row["meta"])
        if keep is not None:
            row = {k: row[k] for k in keep if k in row}
        for c in MESSAGE_COLUMNS:
            if row.get(c):
                row[c] = clean_turns(row[c])
        out.append(row)
    return out


def clean_turns(turns: list[dict]) -> list[dict]:
    """Turns without their null tool fields (``{role, content}`` unless a tool field is set)."""
    return [{k: v for k, v in t.items() if v is not None or k not in TOOL_FIELDS}
            for t in turns]


def turn_text(turn: dict) -> str:
    """What a turn dict says: its content, then one ``name(arguments)`` line per tool call (as
    :func:`message_text` does for frames)."""
    calls = [f"{c['function']['name']}({c['function']['arguments']})"
             for c in turn.get("tool_calls") or ()]
    return "\n".join([turn.get("content") or "", *calls]) if calls else turn.get("content") or ""


def conform(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with its conversation columns in the current message type: frames written before
    the tool fields existed get them null (a cast by field name); others are returned as is."""
    old = [c for c in MESSAGE_COLUMNS if c in df.columns and df.schema[c] != MESSAGES]
    if not old:
        return df
    # Polars 2.2 casts structs by position unless strict=False; a lenient cast is only taken
    # for turns whose fields are some of the current ones, so nothing else is nulled silently.
    by_name = [c for c in old if _older_turns(df.schema[c])]
    if by_name:
        df = df.cast({c: MESSAGES for c in by_name}, strict=False)
    rest = {c: MESSAGES for c in old if c not in by_name}
    return df.cast(rest) if rest else df


def _older_turns(dtype: pl.DataType) -> bool:
    """Whether ``dtype`` is a list of turn structs with some of today's fields, in their types."""
    if not isinstance(dtype, pl.List) or not isinstance(dtype.inner, pl.Struct):
        return False
    today = {f.name: f.dtype for f in MESSAGES.inner.fields}
    return all(f.name in today and f.dtype in (today[f.name], pl.Null)
               for f in dtype.inner.fields)
