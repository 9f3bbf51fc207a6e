"""Which files of an output folder curate wrote (curate.io.owned), the overlap of input and
output (curate.io.output.check_overlap), locally and at fsspec URLs (memory://)."""

from __future__ import annotations

import json
from pathlib import Path

import fsspec
import pytest

from curate.errors import CurateError
from curate.io.output import check_overlap, prepare_output
from curate.io.owned import (MARKER, check_export_output, check_run_output, folder_kind,
                             ignored_beside_run, mark_run)


@pytest.fixture
def memfs():
    fs = fsspec.filesystem("memory")
    root = "/owned-tests"
    yield fs, root
    if fs.exists(root):
        fs.rm(root, recursive=True)


def test_a_run_folder_is_known_by_its_marker_or_an_old_manifest(tmp_path):
    assert folder_kind(tmp_path) is None
    mark_run(tmp_path / "run")
    assert folder_kind(tmp_path / "run") == "run"
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.json").write_text(json.dumps({"name": "x", "stages": []}))
    assert folder_kind(old) == "run"
    (old / "manifest.json").write_text('{"name": "a web app manifest"}')
    assert folder_kind(old) is None
    (old / MARKER).write_text('{"kind": "run"}')  # not curate's: no written_by
    assert folder_kind(old) is None


def test_run_output_checks(tmp_path):
    check_run_output(tmp_path / "missing")
    check_run_output(tmp_path)  # empty
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.jsonl").write_text("{}")  # hidden entries are not looked at
    (tmp_path / "photo.png").write_bytes(b"x")        # not data: left alone
    (tmp_path / "empty").mkdir()
    check_run_output(tmp_path)
    mark_run(tmp_path / "nested")                      # another output of curate's
    (tmp_path / "nested" / "data.parquet").write_bytes(b"")
    check_run_output(tmp_path)
    (tmp_path / "a.csv").write_text("x\n")
    with pytest.raises(CurateError, match=r"a\.csv is a data file curate did not write"):
        check_run_output(tmp_path)
    (tmp_path / "a.csv").unlink()
    (tmp_path / "report.html").write_text("mine")
    with pytest.raises(CurateError, match=r"report\.html was not written by curate and a run "
                                          r"writes there"):
        check_run_output(tmp_path)
    mark_run(tmp_path)  # now a run folder: its layout is curate's
    check_run_output(tmp_path)


def test_export_output_checks(tmp_path):
    names = ["train.jsonl", "README.md", "rejected/export.parquet"]
    check_export_output(tmp_path / "missing", names)
    (tmp_path / "rejected").mkdir()
    (tmp_path / "rejected" / "export.parquet").write_bytes(b"mine")
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CurateError) as exc:
        check_export_output(tmp_path, names, flag="--out")
    assert str(exc.value) == (f"--out {tmp_path}: {tmp_path}/rejected/export.parquet was not "
                              "written by curate; pass --overwrite to let curate replace it, or "
                              "choose another --out")
    check_export_output(tmp_path, names, overwrite=True)
    (tmp_path / MARKER).write_text(json.dumps({"written_by": "curate", "kind": "export",
                                               "files": ["rejected/export.parquet"]}))
    check_export_output(tmp_path, names)
    mark_run(tmp_path / "run")
    with pytest.raises(CurateError, match=r"a run folder; export into .*/run/export/NAME"):
        check_export_output(tmp_path / "run", names)
    with pytest.raises(CurateError, match="an export folder written by `curate export`"):
        check_run_output(tmp_path)


def test_ignored_beside_run(tmp_path):
    mark_run(tmp_path)
    for name in ("data.parquet", "manifest.json", "pairs.parquet", "notes", "a.jsonl",
                 ".hidden.jsonl"):
        (tmp_path / name).write_text("x")
    for folder in ("stages", "export", "pictures", "more"):
        (tmp_path / folder).mkdir()
    (tmp_path / "stages" / "00_convert.parquet").write_text("x")
    (tmp_path / "pictures" / "a.png").write_text("x")
    (tmp_path / "more" / "deep").mkdir()
    (tmp_path / "more" / "deep" / "b.md").write_text("x")
    assert ignored_beside_run(tmp_path) == ["a.jsonl", "more/"]


def test_overlap(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.jsonl").write_text("{}\n")
    check_overlap(data, tmp_path / "out")
    check_overlap(data / "a.jsonl", data / "b")  # beside a file input, not over it
    for out, what in ((data, "this is the input"), (data / "sub" / "run", "is inside the input"),
                      (tmp_path, "is inside this folder")):
        with pytest.raises(CurateError, match=what):
            check_overlap(data, out)
    link = tmp_path / "link"
    link.symlink_to(data)
    with pytest.raises(CurateError, match="this is the input"):
        check_overlap(link, data)
    # a run folder given as input: outputs may go into its export/ folder
    mark_run(data)
    (data / "manifest.json").write_text("{}")
    (data / "data.parquet").write_bytes(b"")
    check_overlap(data, data / "export" / "mine")
    with pytest.raises(CurateError, match=r"\(or into its export/ folder\)"):
        check_overlap(data, data / "stages")


def test_url_outputs_are_checked_with_one_listing(memfs, tmp_path):
    fs, root = memfs
    url = f"memory://{root}"
    fs.pipe(f"{root}/data/a.jsonl", b"{}\n")
    fs.pipe(f"{root}/out/train.jsonl", b"mine\n")
    fs.pipe(f"{root}/runs/b.jsonl", b"{}\n")
    with pytest.raises(CurateError, match=r"this is the input"):
        check_overlap(f"{url}/data/", f"{url}/data")
    with pytest.raises(CurateError, match=r"is inside the input"):
        check_overlap(f"{url}/data/*.jsonl", f"{url}/data/run")
    check_overlap(f"{url}/data", f"{url}/elsewhere")
    check_overlap(f"{url}/data", tmp_path)  # another file system
    with pytest.raises(CurateError, match=r"out/train\.jsonl was not written by curate"):
        prepare_output(f"{url}/out", export=["train.jsonl", "README.md"])
    prepare_output(f"{url}/out", export=["train.jsonl"], overwrite=True)
    with pytest.raises(CurateError, match=r"runs/b\.jsonl is a data file curate did not write"):
        prepare_output(f"{url}/runs")
    fs.pipe(f"{root}/runs/.curate.json", b'{"written_by": "curate", "kind": "run"}')
    fs.rm(f"{root}/runs/b.jsonl")
    fs.pipe(f"{root}/runs/stages/00_convert.parquet", b"")
    prepare_output(f"{url}/runs")


def test_a_marker_is_never_half_written(tmp_path):
    mark_run(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [MARKER]
    assert json.loads((tmp_path / MARKER).read_text()) == {"written_by": "curate", "kind": "run"}


def test_prepare_output_leaves_nothing_behind_when_it_refuses(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text("{}\n")
    before = sorted(Path(tmp_path).rglob("*"))
    with pytest.raises(CurateError):
        prepare_output(tmp_path / "in" / "run", inputs=[tmp_path / "in"])
    assert sorted(Path(tmp_path).rglob("*")) == before


def test_url_messages_never_show_credentials(memfs):
    fs, root = memfs
    url = f"memory://user:SECRET@{root}/out?token=SECRET"
    fs.pipe(f"/user:SECRET@{root}/out?token=SECRET/train.jsonl", b"mine\n")
    try:
        for check in (lambda: check_overlap(url, url),
                      lambda: prepare_output(url, export=["train.jsonl"])):
            with pytest.raises(CurateError) as exc:
                check()
            assert "SECRET" not in str(exc.value)
    finally:
        fs.rm("/user:SECRET@", recursive=True)
