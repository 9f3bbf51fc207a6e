"""Argilla dataset settings per labeling task, and creating a dataset from them.

Tasks:
    sft-review   fields ``prompt`` (chat) and ``response``; questions ``quality`` (rating 1-5),
                 ``verdict`` (accept/reject) and ``correction`` (text, optional).
    preference   fields ``prompt`` (chat), ``response_a`` and ``response_b`` (the pair's replies in a
                 randomised, recorded order); questions ``preference`` (a/b/tie) and ``rationale``
                 (text, optional).

Metadata properties come from the frame: ``source`` and ``lang`` as terms, numeric score columns
(``toxicity``, ``tox_*``, ``cluster``, ``chosen_score``, ...) as floats; an ``embedding`` column
becomes the vector ``embedding`` for "find similar". ``K`` submitted responses complete a record.

Examples:
    >>> s = task_settings("preference", frame, annotators=2)     # doctest: +SKIP
    >>> [q["name"] for q in s.questions]                          # doctest: +SKIP
    ['preference', 'rationale']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ..errors import CurateError
from ..record_schema import RECORD_COLUMNS
from .client import ArgillaClient

TASKS = ("sft-review", "preference")
TASK_OF_KIND = {"sft": "sft-review", "preference": "preference"}
KIND_OF_TASK = {v: k for k, v in TASK_OF_KIND.items()}
TERMS_COLUMNS = ("source", "lang")
HIDDEN_METADATA = ("a_is",)  # the recorded A/B order, kept from annotators

GUIDELINES = {
    "sft-review": (
        "# Review an instruction and its response\n\n"
        "Read the conversation (the prompt) and the assistant's **response**.\n\n"
        "- **quality**: 1 = wrong or harmful, 3 = usable with flaws, 5 = correct, complete, "
        "well written.\n"
        "- **verdict**: *accept* if the response may be used to train a model as it is, "
        "*reject* otherwise.\n"
        "- **correction** (optional): a corrected response, when a fix is easy. Leave empty "
        "otherwise.\n\n"
        "Suggestions come from curate's model scores; check them, do not just confirm them."),
    "preference": (
        "# Compare two responses\n\n"
        "Read the prompt and the two responses **A** and **B** (their order is random).\n\n"
        "- **preference**: the better response, or *tie* when neither is clearly better.\n"
        "- **rationale** (optional): one or two sentences on why.\n\n"
        "Judge helpfulness, correctness and harmlessness; length alone is no merit."),
}


def _text_field(name: str, title: str, *, chat: bool = False) -> dict:
    # Plain text, not markdown: annotators must see the exact text a model would be trained on
    # (with markdown, a reply like "Use the <center> tag." renders as HTML and hides the tag).
    return {"name": name, "title": title, "required": True,
            "settings": {"type": "chat" if chat else "text", "use_markdown": False}}


def _question(name: str, title: str, settings: dict, *, required: bool = True,
              description: str | None = None) -> dict:
    return {"name": name, "title": title, "description": description, "required": required,
            "settings": settings}


def _options(*values: tuple[str, str]) -> list[dict]:
    return [{"value": v, "text": t} for v, t in values]


QUESTIONS = {
    "sft-review": [
        _question("quality", "Quality of the response (1-5)",
                  {"type": "rating", "options": [{"value": v} for v in range(1, 6)]}),
        _question("verdict", "Keep this response for training?",
                  {"type": "label_selection", "options": _options(("accept", "accept"),
                                                                  ("reject", "reject"))}),
        _question("correction", "Corrected response (optional)",
                  {"type": "text", "use_markdown": True}, required=False),
    ],
    "preference": [
        _question("preference", "Which response is better?",
                  {"type": "label_selection",
                   "options": _options(("a", "A"), ("b", "B"), ("tie", "tie"))}),
        _question("rationale", "Why? (optional)", {"type": "text", "use_markdown": False},
                  required=False),
    ],
}
FIELDS = {
    "sft-review": [_text_field("prompt", "Prompt", chat=True),
                   _text_field("response", "Response")],
    "preference": [_text_field("prompt", "Prompt", chat=True),
                   _text_field("response_a", "Response A"),
                   _text_field("response_b", "Response B")],
}


@dataclass
class DatasetSettings:
    task: str
    annotators: int
    guidelines: str
    fields: list[dict]
    questions: list[dict]
    metadata: list[dict] = field(default_factory=list)
    vectors: list[dict] = field(default_factory=list)
    dataset_metadata: dict[str, Any] = field(default_factory=dict)


def metadata_columns(frame: pl.DataFrame) -> dict[str, str]:
    """Frame columns that become metadata properties: name -> ``terms`` or ``float``."""
    out = {}
    for name, dtype in frame.schema.items():
        if name in TERMS_COLUMNS and dtype == pl.String:
            out[name] = "terms"
        elif (name not in RECORD_COLUMNS or name in ("chosen_score", "rejected_score")) \
                and not name.startswith("label_") and dtype.is_numeric():
            out[name] = "float"
    return out


def vector_dimensions(frame: pl.DataFrame) -> int | None:
    if "embedding" not in frame.columns:
        return None
    first = frame.get_column("embedding").drop_nulls().head(1).to_list()
    return len(first[0]) if first else None


def task_settings(task: str, frame: pl.DataFrame, *, annotators: int = 1,
                  guidelines: str | None = None) -> DatasetSettings:
    """The dataset settings for ``task`` and the columns ``frame`` has."""
    if task not in TASKS:
        raise CurateError(f"unknown labeling task {task!r}; expected one of {', '.join(TASKS)}")
    if annotators < 1:
        raise CurateError("--annotators must be 1 or more")
    meta = [{"name": name, "title": name,
             "settings": {"type": "terms"} if kind == "terms" else {"type": "float"},
             "visible_for_annotators": True}
            for name, kind in metadata_columns(frame).items()]
    if task == "preference":
        meta.append({"name": "a_is", "title": "response A is", "visible_for_annotators": False,
                     "settings": {"type": "terms", "values": ["chosen", "rejected"]}})
    dims = vector_dimensions(frame)
    vectors = [{"name": "embedding", "title": "embedding", "dimensions": dims}] if dims else []
    return DatasetSettings(task, annotators, guidelines or GUIDELINES[task], FIELDS[task],
                           QUESTIONS[task], meta, vectors)


def ensure_dataset(client: ArgillaClient, name: str, settings: DatasetSettings, *,
                   workspace: str | None = None) -> dict:
    """The dataset ``name``, created and published with ``settings`` if it does not exist.

    An existing dataset must have the task's questions; new metadata properties are added.
    """
    ws = client.workspace_id(workspace)
    ds = client.find_dataset(name, ws)
    distribution = {"strategy": "overlap", "min_submitted": settings.annotators}
    if ds is None:
        ds = client.post("/api/v1/datasets", {
            "name": name, "workspace_id": ws, "guidelines": settings.guidelines,
            "allow_extra_metadata": True, "distribution": distribution,
            "metadata": {"curate_task": settings.task, **settings.dataset_metadata}})
        for f in settings.fields:
            client.post(f"/api/v1/datasets/{ds['id']}/fields", f)
        for q in settings.questions:
            client.post(f"/api/v1/datasets/{ds['id']}/questions", q)
        for v in settings.vectors:
            client.post(f"/api/v1/datasets/{ds['id']}/vectors-settings", v)
        _add_metadata(client, ds["id"], settings.metadata)
        return client.put(f"/api/v1/datasets/{ds['id']}/publish")
    task = (ds.get("metadata") or {}).get("curate_task")
    if task and task != settings.task:
        raise CurateError(f"Argilla dataset {name!r} was made for task {task}, not "
                          f"{settings.task}; push to another --dataset")
    have = {q["name"] for q in client.questions(ds["id"])}
    want = {q["name"] for q in settings.questions}
    if not want <= have:
        raise CurateError(f"Argilla dataset {name!r} lacks the questions {sorted(want - have)} "
                          f"of task {settings.task}; push to another --dataset")
    fields = {f["name"] for f in client.get(f"/api/v1/datasets/{ds['id']}/fields")["items"]}
    missing = [f["name"] for f in settings.fields if f["name"] not in fields]
    if missing:  # a published dataset takes no new fields
        raise CurateError(f"Argilla dataset {name!r} lacks the fields {missing} these records "
                          f"need; push to another --dataset")
    _add_metadata(client, ds["id"], settings.metadata)
    if ds.get("distribution") != distribution:
        ds = client.request("PATCH", f"/api/v1/datasets/{ds['id']}",
                            json={"distribution": distribution})
    return ds


def _add_metadata(client: ArgillaClient, dataset_id: str, wanted: list[dict]) -> None:
    have = {m["name"] for m in client.get(
        f"/api/v1/me/datasets/{dataset_id}/metadata-properties")["items"]}
    for m in wanted:
        if m["name"] not in have:
            client.post(f"/api/v1/datasets/{dataset_id}/metadata-properties", m)


def question_kinds(questions: list[dict]) -> dict[str, str]:
    """Question name -> its settings type (rating, label_selection, ranking, text, ...)."""
    return {q["name"]: q["settings"]["type"] for q in questions}


def suggestion_values(task: str, row: dict[str, Any], a_is: str | None) -> dict[str, tuple]:
    """Pre-filled answers from model scores: question -> (value, score)."""
    out: dict[str, tuple] = {}
    if task == "sft-review" and row.get("toxicity") is not None:
        tox = float(row["toxicity"])
        out["verdict"] = ("reject", tox) if tox >= 0.5 else ("accept", 1.0 - tox)
    if task == "sft-review" and row.get("quality_score") is not None:
        q = min(max(float(row["quality_score"]), 0.0), 1.0)
        out["quality"] = (int(round(1 + 4 * q)), q)
    if task == "preference" and row.get("chosen_score") is not None \
            and row.get("rejected_score") is not None:
        c, r = float(row["chosen_score"]), float(row["rejected_score"])
        if c == r:
            out["preference"] = ("tie", 0.5)
        else:
            better = "chosen" if c > r else "rejected"
            out["preference"] = ("a" if a_is == better else "b", abs(c - r) / (abs(c) + abs(r) or 1))
    return out
