"""The files of an export folder: what an export writes, publishes and removes."""

from __future__ import annotations

import json

from curate.export.folder import export_names, published_files, remove_export
from curate.io.owned import MARKER


def test_export_names():
    assert export_names("trl-sft") == [
        "train.parquet", "train.jsonl", "validation.parquet", "validation.jsonl",
        "test.parquet", "test.jsonl", "README.md"]
    assert export_names("llama-factory")[-2:] == ["dataset_info.json", "README.md"]
    assert {"axolotl.yaml", "dataset_info.json"} <= set(export_names())


def test_published_files_are_the_markers_or_else_the_export_names(tmp_path):
    for name in ("README.md", "train.jsonl", "notes.md", "rejected/export.parquet",
                 "more/train.jsonl"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    # a folder from before the marker: the names an export writes
    assert [p.name for p in published_files(tmp_path)] == ["README.md", "train.jsonl"]
    (tmp_path / MARKER).write_text(json.dumps({
        "written_by": "curate", "kind": "export",
        "files": ["README.md", "rejected/export.parquet", "gone.parquet"]}))
    assert [p.name for p in published_files(tmp_path)] == ["README.md"]


def test_remove_export_leaves_the_users_files(tmp_path):
    folder = tmp_path / "e"
    (folder / "rejected").mkdir(parents=True)
    for name in ("README.md", "train.jsonl", "rejected/export.parquet", "notes.md"):
        (folder / name).write_text("x")
    remove_export(folder)  # no marker, not listed in a manifest: nothing is curate's
    assert len(list(folder.rglob("*"))) == 5
    remove_export(folder, listed_in_manifest=True)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.md"]
    (folder / "notes.md").unlink()
    (folder / "train.parquet").write_text("x")
    (folder / MARKER).write_text(json.dumps({"written_by": "curate", "kind": "export",
                                             "files": ["train.parquet"]}))
    remove_export(folder)
    assert not folder.exists()
