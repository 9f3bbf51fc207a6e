"""Format detection by a row's keys, and the registry of row formats."""

from __future__ import annotations

from . import alpaca, alpaca_eval, dolly, hh_rlhf, openai, passages, prompts, records, sharegpt

# Detection order matters: the more specific key sets come first.
DETECT_ORDER = (alpaca_eval.Annotations, alpaca_eval.Outputs, alpaca, records, openai, sharegpt,
                hh_rlhf, dolly)
BY_NAME = {f.NAME: f for f in DETECT_ORDER}
# User-facing format names -> the formats they cover (tried in order, per row).
FORCED = {
    "alpaca": (alpaca,), "sharegpt": (sharegpt,), "openai": (openai,), "dolly": (dolly,),
    "hh-rlhf": (hh_rlhf,), "records": (records,),
    "alpaca-eval": (alpaca_eval.Annotations, alpaca_eval.Outputs),
    "alpaca-eval-outputs": (alpaca_eval.Outputs,),
    "alpaca-eval-annotations": (alpaca_eval.Annotations,),
    "prompts": (prompts,), "passages": (passages,),  # rows waiting for generation
    # candidates for SFT/pair rows and for rows with a prompt but no reply alike
    "auto+prompts": (*DETECT_ORDER, prompts),
}
HINTS = ("alpaca (instruction, output), sharegpt (conversations), openai (messages), "
         "dolly (instruction, response), hh-rlhf (chosen, rejected), alpaca-eval "
         "(instruction, output, generator | instruction, output_1, output_2, preference), "
         "records (kind, messages | prompt, chosen, rejected), or a question and an answer "
         "field (question/answer, prompt/response, query/response, problem/solution, "
         "input/target, ...; with chosen/rejected for pairs), or text alone")


def detect(keys: set[str]):
    """The first format module whose keys a row has, or None."""
    for fmt in DETECT_ORDER:
        if fmt.matches(keys):
            return fmt
    return None


def detect_format(data: dict) -> str | None:
    """The name of a row's format, detected from its keys, or None."""
    fmt = detect(set(data))
    return fmt.NAME if fmt is not None else None
