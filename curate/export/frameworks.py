"""Export targets for trainers outside TRL: Axolotl, LLaMA-Factory and OpenAI fine-tuning.

    axolotl        ``chat_template`` dataset files (``messages``) and ``axolotl.yaml`` with the
                   matching ``datasets:``/``test_datasets:`` blocks; ``task="dpo"`` writes
                   ``chat_template.default`` preference rows (``messages`` prompt, one ``chosen``
                   and one ``rejected`` message) under ``rl: dpo``
    llama-factory  ``style="sharegpt"`` (``conversations`` of ``{from, value}``: human, gpt,
                   function_call for tool calls, observation for tool results, system first)
                   or ``style="alpaca"``
                   (instruction/input/output/system/history), and ``dataset_info.json`` with one
                   entry per data file; ``task="dpo"`` writes ranking data (``ranking: true``)
    openai         chat fine-tuning JSONL (``{"messages": [...]}``, tool calls and results
                   linked by id), or with ``task="dpo"`` the preference format
                   (``input``/``preferred_output``/``non_preferred_output``)

Checks follow each reader: LLaMA-Factory drops a conversation whose roles do not alternate
(after a leading system turn, user or tool turns at odd positions, assistant turns at even ones,
an even number of turns, an odd one for ranking prompts); Alpaca has no tool role; OpenAI's chat
format links a tool turn to its call by ``tool_call_id`` (``tool_call_id_missing`` without);
single-message replies where the format holds one message. Tool calls: see tools.py
(``tool_calls_unsupported`` where a format has no form for them).

Input columns: ``kind``, ``id``, ``messages`` (task sft) or ``prompt``, ``chosen``,
``rejected`` (task dpo).
Output columns: ``id`` and the format's columns (OpenAI's files hold only its own keys).

Examples:

    >>> export(df, Path("out/lf"), target="llama-factory", style="alpaca", task="dpo")
    >>> json.loads(Path("out/lf/dataset_info.json").read_text())["curate_train"]["ranking"]
    True
"""

from __future__ import annotations

import json

import polars as pl
import yaml

from ..record_schema import MESSAGE, MESSAGES
from . import checks as C
from .targets import ID_DOC, Target, register
from .tools import missing_ids, sharegpt_call_value, text_and_calls, uses_tools

AXOLOTL_TEMPLATES = {"chatml": "chatml", "llama-3": "llama3", "zephyr": "zephyr"}
SHAREGPT_TAGS = {"user": "human", "assistant": "gpt", "tool": "observation", "system": "system"}
LF_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human",
           "assistant_tag": "gpt", "observation_tag": "observation",
           "function_tag": "function_call", "system_tag": "system"}
SHAREGPT_TURN = pl.Struct({"from": pl.String, "value": pl.String})
OPENAI_ROLES = ("system", "user", "assistant")
OPENAI_SFT_ROLES = ("system", "user", "assistant", "tool")
ALPACA_ROLES = ("system", "user", "assistant")
TASKS = ("sft", "dpo")


def _or(checks: list[tuple[str, pl.Expr]], reason: str, cond: pl.Expr) -> list:
    """``checks`` with ``cond`` also failing ``reason`` (added last if it is not there)."""
    if reason not in dict(checks):
        return checks + [(reason, cond)]
    return [(r, c | cond if r == reason else c) for r, c in checks]


def _sft_or_pair_checks(opts: dict, roles: tuple[str, ...], *, alternate: tuple | None = None,
                        single_reply: bool = True) -> list[tuple[str, pl.Expr]]:
    if opts["task"] == "sft":
        msgs = pl.col("messages")
        checks = C.conversation_checks(msgs, ["sft"], roles=roles)
        if alternate:
            checks = _or(checks, "bad_turn_order", C.not_alternating(msgs, *alternate)
                         | (C.without_system(msgs).list.len() % 2 != 0))
        return checks
    checks = C.pair_checks(prompt_roles=roles, reply_roles=("assistant",),
                           single_reply=single_reply)
    if alternate:
        prompt = pl.col("prompt")
        checks = _or(checks, "bad_turn_order", C.not_alternating(prompt, *alternate)
                     | (C.without_system(prompt).list.len() % 2 != 1))
    return checks


def _task(opts: dict) -> str:
    return opts["task"]


def _after_kind(checks: list[tuple[str, pl.Expr]], reason: str, cond: pl.Expr) -> list:
    """``checks`` with ``(reason, cond)`` right after ``wrong_kind`` (the first check)."""
    return checks[:1] + [(reason, cond)] + checks[1:]


def _no_tools(checks: list[tuple[str, pl.Expr]], opts: dict) -> list:
    """``checks`` that also refuse any tool use (``tool_calls_unsupported``)."""
    cols = ("messages",) if opts["task"] == "sft" else ("prompt", "chosen", "rejected")
    return _after_kind(checks, "tool_calls_unsupported", uses_tools(*map(pl.col, cols)))


# --- axolotl -------------------------------------------------------------------------------------

def _axolotl_rows(rec: dict, opts: dict) -> list[dict]:
    if opts["task"] == "sft":
        return [{"id": rec["id"], "messages": rec["messages"]}]
    return [{"id": rec["id"], "messages": rec["prompt"], "chosen": rec["chosen"][0],
             "rejected": rec["rejected"][0]}]


def _axolotl_columns(opts: dict) -> dict:
    if opts["task"] == "sft":
        return {"id": (pl.String, ID_DOC),
                "messages": (MESSAGES, "the conversation, `{role, content}` turns")}
    return {"id": (pl.String, ID_DOC),
            "messages": (MESSAGES, "the prompt, `{role, content}` turns ending with a user turn"),
            "chosen": (MESSAGE, "the preferred reply, one `{role, content}` message"),
            "rejected": (MESSAGE, "the dispreferred reply, one `{role, content}` message")}


def _axolotl_entry(path: str, opts: dict, chat_template: str) -> dict:
    entry = {"path": path, "ds_type": "json" if path.endswith(".jsonl") else "parquet",
             "split": "train"}
    mapping = {"role": "role", "content": "content"}
    if opts["task"] == "sft":
        entry.update({"type": "chat_template", "chat_template": chat_template,
                      "field_messages": "messages", "message_property_mappings": mapping,
                      "roles_to_train": ["assistant"]})
    else:
        entry.update({"type": "chat_template.default", "field_messages": "messages",
                      "field_chosen": "chosen", "field_rejected": "rejected",
                      "message_property_mappings": mapping})
    return entry


def _axolotl_yaml(opts: dict, ctx: dict) -> dict[str, str]:
    files, template = ctx["files"], AXOLOTL_TEMPLATES[ctx["chat_template"]]
    config: dict = {"rl": "dpo"} if opts["task"] == "dpo" else {}
    config["chat_template"] = template
    config["datasets"] = [_axolotl_entry(files["train"][0], opts, template)]
    held_out = [f[0] for s, f in files.items() if s != "train"]
    if held_out:
        config["test_datasets"] = [_axolotl_entry(p, opts, template) for p in held_out]
    head = ("# Axolotl dataset settings for this export, written by curate.\n"
            "# Merge into your Axolotl config; paths are relative to this folder.\n")
    return {"axolotl.yaml": head + yaml.safe_dump(config, sort_keys=False)}


# --- llama-factory -------------------------------------------------------------------------------

def _sharegpt(turns: list[dict]) -> list[dict]:
    return [{"from": "function_call", "value": sharegpt_call_value(t)} if t.get("tool_calls")
            else {"from": SHAREGPT_TAGS[t["role"]], "value": t["content"]} for t in turns]


def _alpaca(turns: list[dict]) -> dict:
    """system, history pairs and the last user turn of an alternating conversation."""
    system = turns[0]["content"] if turns and turns[0]["role"] == "system" else ""
    rest = turns[1:] if system else turns
    history = [[rest[i]["content"], rest[i + 1]["content"]] for i in range(0, len(rest) - 1, 2)]
    return {"system": system, "history": history}


def _lf_rows(rec: dict, opts: dict) -> list[dict]:
    sft = opts["task"] == "sft"
    if opts["style"] == "sharegpt":
        if sft:
            return [{"id": rec["id"], "conversations": _sharegpt(rec["messages"])}]
        return [{"id": rec["id"], "conversations": _sharegpt(rec["prompt"]),
                 "chosen": _sharegpt(rec["chosen"])[0], "rejected": _sharegpt(rec["rejected"])[0]}]
    if sft:
        msgs = rec["messages"]
        ctx = _alpaca(msgs[:-2])
        return [{"id": rec["id"], "instruction": msgs[-2]["content"], "input": "",
                 "output": msgs[-1]["content"], **ctx}]
    ctx = _alpaca(rec["prompt"][:-1])
    return [{"id": rec["id"], "instruction": rec["prompt"][-1]["content"], "input": "",
             "chosen": rec["chosen"][0]["content"], "rejected": rec["rejected"][0]["content"],
             **ctx}]


def _lf_columns(opts: dict) -> dict:
    sft = opts["task"] == "sft"
    if opts["style"] == "sharegpt":
        cols = {"id": (pl.String, ID_DOC),
                "conversations": (pl.List(SHAREGPT_TURN), "`{from, value}` turns: system first, "
                                  "then human/observation and gpt alternating")}
        if not sft:
            cols["chosen"] = (SHAREGPT_TURN, "the preferred reply, one `{from: gpt, value}` turn")
            cols["rejected"] = (SHAREGPT_TURN, "the dispreferred reply, one gpt turn")
        return cols
    cols = {"id": (pl.String, ID_DOC), "instruction": (pl.String, "the last user turn"),
            "input": (pl.String, "always empty (the instruction holds the whole turn)")}
    if sft:
        cols["output"] = (pl.String, "the reply")
    else:
        cols["chosen"] = (pl.String, "the preferred reply")
        cols["rejected"] = (pl.String, "the dispreferred reply")
    cols["system"] = (pl.String, "the system prompt, or empty")
    cols["history"] = (pl.List(pl.List(pl.String)), "earlier `[user, assistant]` turns")
    return cols


def _lf_checks(opts: dict, schema: pl.Schema) -> list[tuple[str, pl.Expr]]:
    if opts["style"] == "sharegpt":
        checks = _sft_or_pair_checks(opts, C.CONVERSATION_ROLES,
                                     alternate=(("user", "tool"), ("assistant",)))
        if opts["task"] == "sft":  # a turn that only calls tools is a function_call turn
            return _after_kind(checks, "tool_calls_unsupported",
                               text_and_calls(pl.col("messages")))
        return _no_tools(checks, opts)
    return _no_tools(_sft_or_pair_checks(opts, ALPACA_ROLES,
                                         alternate=(("user",), ("assistant",))), opts)


def _lf_info(opts: dict, ctx: dict) -> dict[str, str]:
    ranking = opts["task"] == "dpo"
    if opts["style"] == "sharegpt":
        base = {"formatting": "sharegpt", "columns": {"messages": "conversations"},
                "tags": dict(LF_TAGS)}
        if ranking:
            base["columns"].update(chosen="chosen", rejected="rejected")
    else:
        cols = {"prompt": "instruction", "query": "input"}
        cols.update({"chosen": "chosen", "rejected": "rejected"} if ranking
                    else {"response": "output"})
        cols.update(system="system", history="history")
        base = {"formatting": "alpaca", "columns": cols}
    if ranking:
        base = {"ranking": True, **base}
    info = {}
    for split, paths in ctx["files"].items():
        for i, path in enumerate(paths):
            suffix = "" if i == 0 else "_" + path.rsplit(".", 1)[-1]
            info[f"{opts['dataset_name']}_{split}{suffix}"] = {"file_name": path, **base}
    return {"dataset_info.json": json.dumps(info, indent=2, ensure_ascii=False) + "\n"}


# --- openai --------------------------------------------------------------------------------------

def _openai_rows(rec: dict, opts: dict) -> list[dict]:
    if opts["task"] == "sft":
        return [{"messages": rec["messages"]}]
    return [{"input": {"messages": rec["prompt"]}, "preferred_output": rec["chosen"],
             "non_preferred_output": rec["rejected"]}]


def _openai_checks(opts: dict, schema: pl.Schema) -> list[tuple[str, pl.Expr]]:
    if opts["task"] == "sft":
        return (_sft_or_pair_checks(opts, OPENAI_SFT_ROLES)
                + [("tool_call_id_missing", missing_ids(pl.col("messages")))])
    return _no_tools(_sft_or_pair_checks(opts, OPENAI_ROLES), opts)


def _openai_columns(opts: dict) -> dict:
    if opts["task"] == "sft":
        return {"messages": (MESSAGES, "the conversation (system, user, assistant and tool "
                                       "turns)")}
    return {"input": (pl.Struct({"messages": MESSAGES}), "`{messages}`: the prompt"),
            "preferred_output": (MESSAGES, "the preferred reply (one assistant message)"),
            "non_preferred_output": (MESSAGES, "the dispreferred reply")}


register(Target(
    "axolotl", "chat_template datasets for Axolotl, with the matching YAML `datasets:` block",
    lambda o, s: _no_tools(_sft_or_pair_checks(o, C.CONVERSATION_ROLES), o), _axolotl_rows,
    _axolotl_columns,
    _task, lambda o: "# axolotl: merge axolotl.yaml into your config",
    tags=("axolotl",), options={"task": "sft"}, choices={"task": TASKS},
    side_files=_axolotl_yaml, side_names=("axolotl.yaml",)))
register(Target(
    "llama-factory", "LLaMA-Factory datasets (sharegpt or alpaca) with dataset_info.json",
    _lf_checks, _lf_rows, _lf_columns, _task,
    lambda o: f"# LLaMA-Factory: dataset_dir: <this folder>, dataset: {o['dataset_name']}_train",
    tags=("llama-factory",), options={"task": "sft", "style": "sharegpt", "dataset_name": "curate"},
    choices={"task": TASKS, "style": ("sharegpt", "alpaca")}, side_files=_lf_info,
    side_names=("dataset_info.json",)))
register(Target(
    "openai", "OpenAI chat fine-tuning JSONL",
    _openai_checks, _openai_rows, _openai_columns, _task,
    lambda o: "# OpenAI: upload train.jsonl with purpose=\"fine-tune\"",
    tags=("openai",), options={"task": "sft"}, choices={"task": TASKS}, formats=("jsonl",)))
