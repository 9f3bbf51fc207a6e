"""Raw text split into passages (format ``passages``), for ``generate.questions``.

Document files (``.txt``, ``.md``, ``.rst``) and rows with a ``text`` (or ``content``,
``document``, ``body``) field are split by :func:`curate.llm.passages.split_passages` into
``passage`` records; ``meta`` holds the file, the row's line (for rows), the passage's
character offsets in the text (``start``, ``end``) and its section titles.
"""

from __future__ import annotations

from pathlib import PurePath

from ..errors import RowError
from .common import clean, extras

NAME = "passages"
KIND = "passage"
FIELDS = ("text", "content", "document", "body")
MAX_TOKENS = 160  # of a passage (estimated): a paragraph or two, enough for a few questions


def matches(keys: set[str]) -> bool:
    return any(k in keys for k in FIELDS)


def passage_records(text: str, file: str, *, markdown: bool, meta: dict | None = None
                    ) -> list[dict]:
    from ..llm.passages import split_passages  # startup

    name = PurePath(file).name
    out = []
    for p in split_passages(text, max_tokens=MAX_TOKENS, markdown=markdown):
        out.append({"kind": "passage", "prompt": [{"role": "user", "content": p.text}],
                    "source": name, "meta": {**(meta or {}), "file": name, "start": p.start,
                                             "end": p.end, "section": p.section}})
    return out


def to_records(data: dict) -> list[dict]:
    key = next((k for k in FIELDS if isinstance(data.get(k), str)), None)
    if key is None:
        raise RowError("missing_field", f"expected a text field ({', '.join(FIELDS)})",
                       field=FIELDS[0])
    records = passage_records(clean(data[key]), "", markdown=False,
                              meta=extras(data, (key,)))
    if not records:
        raise RowError("no_passage", "the text is too short to make a passage", field=key)
    for r in records:
        del r["source"]  # the converter names the file
        r["meta"].pop("file")
    return records


def document_records(doc) -> list[dict]:
    from .docs import is_markdown  # startup

    return passage_records(doc.text, doc.file,
                           markdown=doc.markdown or is_markdown(doc.file, doc.text))
