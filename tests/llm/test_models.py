"""Which model folder a model name resolves to: the packaged model, a folder, a GGUF file."""

from __future__ import annotations

import os

import pytest

from curate.errors import CurateError
from curate.llm.models import model_version, resolve_model


def test_a_gguf_files_version_changes_with_the_file(tmp_path):
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 60)
    first = model_version(str(path))
    assert first.startswith(f"{path.resolve()}@64:")
    os.utime(path, ns=(1, 1))
    assert model_version(str(path)) == f"{path.resolve()}@64:1" != first


def test_a_gguf_file_transformers_cannot_read_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_HOME", str(tmp_path / "home"))
    path = tmp_path / "broken.gguf"
    path.write_bytes(b"not a gguf file at all")
    with pytest.raises(CurateError, match=rf"^{path}: cannot convert this GGUF file with "
                                          r"transformers: "):
        resolve_model(str(path))
    # nothing half-converted is left behind to be taken for a model later
    assert [p for p in (tmp_path / "home").rglob("*") if ".tmp" in p.name] == []


def test_a_folder_without_a_config_is_refused(tmp_path):
    with pytest.raises(CurateError, match="not a local Hugging Face model folder"):
        resolve_model(str(tmp_path))
