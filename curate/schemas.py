"""JSON Schemas of the record kinds and of the recipe, generated from the models.

``python -m curate.schemas`` rewrites ``schemas/``; a test fails when the files drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .recipe import Recipe
from .records import PreferenceRecord, SFTRecord

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"


def schemas() -> dict[str, dict]:
    out = {}
    for name, model in (("sft_record", SFTRecord), ("preference_record", PreferenceRecord),
                        ("recipe", Recipe)):
        schema = model.model_json_schema(by_alias=True)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://curate.dev/schemas/{name}.json"
        out[name] = schema
    return out


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, schema in schemas().items():
        path = directory / f"{name}.json"
        path.write_text(render(schema), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write_schemas(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_DIR):
        print(p)
