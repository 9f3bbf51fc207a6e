"""YAML recipe -> validated :class:`Recipe`.

Validation errors name the place in the recipe (``stages[2].with.max: ...``). Every stage's
``with:`` block is checked against that stage's options model, so a recipe that validates runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, ValidationError, field_validator,
                      model_validator)

from .errors import CurateError, RecipeError
from .io.encoding import check_encoding
from .stages.base import field_error
from .stages.registry import stage_class

ON_ERROR = ("raise", "skip")
# export() options that are about writing, not the target's row format
_WRITER_OPTIONS = ("formats", "chat_template", "max_tokens", "tokenizer")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class InputSpec(_Strict):
    """Where the records come from."""

    path: str = Field(description="A file, a folder of files, a run folder or a saved HF dataset.")
    format: str = Field("auto", description="Input format, or auto to detect it per file.")
    kind: Literal["sft", "preference"] | None = Field(
        None, description="Convert every record to this kind (preference -> sft keeps chosen).")
    columns: dict[str, str] | None = Field(
        None, description="Which input field is which: target -> field (a dotted path for a "
        "nested one). Targets: prompt, response, system, history, messages, chosen, rejected, "
        "text, id, chosen_score, rejected_score, meta.NAME. Default: detected per file.")
    encoding: str = Field("utf-8", description="Encoding of the text files (jsonl, json, csv, "
                          "documents), a Python codec name such as latin-1 or cp1252.")

    @field_validator("columns")
    @classmethod
    def _column_map(cls, columns: dict[str, str] | None) -> dict[str, str] | None:
        if columns is not None:
            from .convert.columns import ColumnMap  # startup

            try:
                ColumnMap.parse(columns, where="")
            except CurateError as exc:
                raise ValueError(str(exc)) from None
        return columns

    @field_validator("format")
    @classmethod
    def _known_format(cls, format: str) -> str:
        from .convert import format_problem  # startup

        problem = format_problem(format)
        if problem is not None:
            raise ValueError(problem)
        return format

    @model_validator(mode="after")
    def _map_or_format(self) -> "InputSpec":
        from .convert import ColumnMap, kind_problem  # startup

        if self.columns is not None and self.format != "auto":
            raise ValueError(f"columns reads the rows through the column map; it does not go "
                             f"with format {self.format} (leave format auto)")
        columns = None if self.columns is None else ColumnMap.parse(self.columns, where="")
        problem = kind_problem(self.format, self.kind, columns)
        if problem is not None:
            raise field_error(type(self), "kind", problem)
        return self

    @field_validator("encoding")
    @classmethod
    def _codec(cls, encoding: str) -> str:
        try:
            check_encoding(encoding)
        except CurateError as exc:
            raise ValueError(str(exc)) from None
        return encoding


class NamedInput(InputSpec):
    """One of several named inputs (``inputs:``): an input with a name and a licence."""

    name: str = Field(description="The input's name: the records' `dataset` column, the key "
                      "of mix quotas and of the per-input counts (letters, digits, _ . -).")
    license: str | None = Field(None, description="The licence of this input's data, listed "
                                "in the dataset card (e.g. cc-by-nc-4.0).")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        from .convert.dataset import INPUT_NAME  # startup

        if not INPUT_NAME.match(name):
            raise ValueError(f"{name!r} is not a plain name: 1-64 letters, digits, '_', '.' "
                             "or '-', starting with a letter or digit")
        return name


class StageSpec(_Strict):
    """One pipeline step: a registry id and its options."""

    use: str = Field(description="Stage id from `curate stages`, e.g. dedup.exact.")
    name: str | None = Field(None, description="Name in the run layout; defaults to the id.")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with",
                                  description="The stage's options.")


class ExportSpec(_Strict):
    """One dataset to write from the final records."""

    target: str = Field(description="Export target, e.g. trl-sft or trl-dpo.")
    test_size: float | int = Field(0.1, description="Fraction (0-1) or count of test rows.")
    validation_size: float | int | None = Field(None, description="Optional validation split.")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with",
                                  description="Target options.")

    @field_validator("test_size", "validation_size")
    @classmethod
    def _split_size(cls, value: float | int | None) -> float | int | None:
        from .export.split import size_problem  # startup

        problem = None if value is None else size_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _held_out(self) -> "ExportSpec":
        from .export.split import held_out_problem  # startup

        problem = held_out_problem(self.test_size, self.validation_size)
        if problem is not None:
            raise field_error(type(self), "validation_size", problem)
        return self


class RayConfig(_Strict):
    """The ``ray:`` block: where and how ``engine: ray`` runs."""

    address: str | None = Field(None, description="Ray cluster address; local Ray when unset.")
    num_cpus: int | None = Field(None, ge=1, description="CPUs of a local Ray (default: all); "
                                 "ignored with an address.")
    shuffle: Literal["sort", "hash"] = Field("sort", description="Deprecated and ignored: the "
                                             "keyed stages spill their own partitions and no "
                                             "longer use Ray Data's shuffle; accepted so that "
                                             "older recipes still validate.")


class Recipe(_Strict):
    """A curation pipeline: input, stages in order, exports (``curate.Recipe``). Build one
    with :func:`parse_recipe` (a mapping, stage options checked) or :func:`load_recipe` (YAML).

    Examples:
        >>> from curate.recipe import parse_recipe
        >>> recipe = parse_recipe({"name": "demo", "input": {"path": "in.jsonl"},
        ...                        "stages": [{"use": "dedup.exact"},
        ...                                   {"use": "dedup.near", "with": {"threshold": 0.8}}]})
        >>> recipe.stage_names(), recipe.engine
        (['dedup.exact', 'dedup.near'], 'local')
        >>> parse_recipe({"name": "x", "input": {"path": "in.jsonl"},
        ...               "stages": [{"use": "dedup.near", "with": {"threshold": 2}}]})
        Traceback (most recent call last):
        curate.errors.RecipeError: stages[0].with.threshold: Input should be less than 1
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra={
        "oneOf": [{"required": ["input"]}, {"required": ["inputs"]}]})

    name: str = Field(description="Name of the pipeline; default output folder exports/<name>.")
    description: str | None = None
    input: InputSpec | None = Field(None, description="The one input (or give inputs).")
    inputs: list[NamedInput] | None = Field(
        None, description="Several named inputs instead of input; every record carries its "
        "input's name in the column dataset.")
    engine: Literal["local", "ray"] = "local"
    ray: RayConfig | None = None
    seed: int = 0
    on_error: Literal["raise", "skip"] = Field(
        "raise", description="Bad input rows: stop with file/line/field, or keep them in rejected/.")
    stages: list[StageSpec] = Field(default_factory=list)
    export: list[ExportSpec] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        if not name or "/" in name or name.startswith("."):
            raise ValueError("must be a plain name (no '/', not starting with '.')")
        return name

    @model_validator(mode="after")
    def _one_input_form(self) -> "Recipe":
        if self.input is None and self.inputs is None:
            raise _error_at(("input",), "required option is missing")
        if self.input is not None and self.inputs is not None:
            raise _error_at(("inputs",), "give either input (one source) or inputs (named "
                            "sources), not both")
        if self.inputs is not None:
            if not self.inputs:
                raise _error_at(("inputs",), "give at least one {name, path}")
            seen: dict[str, int] = {}
            for i, spec in enumerate(self.inputs):
                if spec.name in seen:
                    raise _error_at(("inputs", i, "name"), f"{spec.name!r} names "
                                    f"inputs[{seen[spec.name]}] already; names are unique")
                seen[spec.name] = i
        return self

    def sources(self) -> list[tuple[str | None, InputSpec]]:
        """``(name, spec)`` of each input; the name is None for the single ``input:``."""
        if self.inputs is not None:
            return [(spec.name, spec) for spec in self.inputs]
        return [(None, self.input)]

    def input_where(self, i: int) -> str:
        """The recipe path of the i-th source (``input`` or ``inputs[i]``)."""
        return "input" if self.inputs is None else f"inputs[{i}]"

    def stage_names(self) -> list[str]:
        """Unique names: the id, or the given name; repeats get -2, -3, ..."""
        names, seen = [], {}
        for spec in self.stages:
            base = spec.name or spec.use
            seen[base] = seen.get(base, 0) + 1
            names.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
        return names


def _error_at(loc: tuple, message: str) -> ValidationError:
    """A ValidationError of a recipe at ``loc`` (``("inputs", 1, "name")``)."""
    from pydantic_core import InitErrorDetails, PydanticCustomError

    return ValidationError.from_exception_data("Recipe", [InitErrorDetails(
        type=PydanticCustomError("value_error", message), loc=loc, input=None)])


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. In YAML 1.1 ``on``, ``off``, ``yes`` and ``no`` are
    booleans, which would turn dedup's ``on: prompt`` key into ``True``."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool",
                              re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def _loc(parts: tuple) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = "with" if part == "with_" else part
            out += f".{part}" if out else str(part)
    return out


def _raise_first(exc: ValidationError, *, prefix: str = "", file: str | None = None) -> None:
    raise as_recipe_error(exc, prefix=prefix, file=file) from None


def as_recipe_error(exc: ValidationError, *, prefix: str = "",
                    file: str | None = None) -> RecipeError:
    """The first error of a validation as a RecipeError naming its place (``prefix`` + the
    field's path), e.g. ``stages[0].with.keep: unknown language code(s) xx``."""
    err = exc.errors()[0]
    loc = _loc(tuple(err["loc"]))
    path = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown option"
    elif err["type"] == "missing":
        msg = "required option is missing"
    elif err["type"] == "value_error" and err.get("ctx", {}).get("error") is not None:
        msg = str(err["ctx"]["error"])
    return RecipeError(msg, path=path or None, file=file)


def parse_recipe(data: Any, *, file: str | None = None) -> Recipe:
    """Validate a recipe given as a dict (e.g. parsed YAML), stages' options included."""
    if not isinstance(data, dict):
        raise RecipeError("a recipe must be a mapping with name, input and stages", file=file)
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        _raise_first(exc, file=file)
    from .export import TARGETS, check_writer_options, get_target  # startup

    for i, spec in enumerate(recipe.stages):
        try:
            cls = stage_class(spec.use)
        except RecipeError as exc:
            raise RecipeError(str(exc), path=f"stages[{i}].use", file=file) from None
        try:
            cls.Options.model_validate(spec.with_)
        except ValidationError as exc:
            _raise_first(exc, prefix=f"stages[{i}].with", file=file)
    first: dict[str, int] = {}
    for i, spec in enumerate(recipe.export):
        if spec.target not in TARGETS:
            raise RecipeError(f"unknown target {spec.target!r} (known: {', '.join(TARGETS)})",
                              path=f"export[{i}].target", file=file)
        if spec.target in first:  # both would write export/<target>
            raise RecipeError(f"{spec.target} is exported already by export[{first[spec.target]}]"
                              f" into export/{spec.target}; a recipe exports each target once "
                              "(another variant: `curate export RUN -o FOLDER` after the run)",
                              path=f"export[{i}].target", file=file)
        first[spec.target] = i
        target_options = {k: v for k, v in spec.with_.items() if k not in _WRITER_OPTIONS}
        try:
            get_target(spec.target).resolve(target_options)
        except CurateError as exc:
            raise RecipeError(str(exc), path=f"export[{i}].with", file=file) from None
        tokenizer = spec.with_.get("tokenizer")
        for key in ("formats", "chat_template", "max_tokens"):
            if key in spec.with_:
                try:
                    check_writer_options(spec.target, **{key: spec.with_[key]},
                                         tokenizer=tokenizer)
                except CurateError as exc:
                    raise RecipeError(str(exc), path=f"export[{i}].with.{key}",
                                      file=file) from None
    return recipe


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a YAML recipe file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError("recipe file not found", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise RecipeError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                          file=str(path)) from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise RecipeError(f"{where}invalid YAML: {getattr(exc, 'problem', exc)}",
                          file=str(path)) from None
    return parse_recipe(data, file=str(path))
