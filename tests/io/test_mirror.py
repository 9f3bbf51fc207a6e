"""A run folder staged locally and mirrored to a URL (fsspec's real memory file system)."""

import fsspec
import pytest

from curate.errors import CurateError
from curate.io.mirror import RunMirror, staging_root

from .test_remote import memory_folder

_memory_root = pytest.fixture(memory_folder, name="memory_root")


def test_push_uploads_what_changed_manifest_last(memory_root, tmp_path):
    url, path = memory_root
    fs = fsspec.filesystem("memory")
    assert str(RunMirror("memory://user:pw@bucket/run?token=abc")) == "memory://bucket/run"
    mirror = RunMirror(f"{url}/run", root=tmp_path)
    assert str(mirror) == f"{url}/run" and mirror.local.parent == tmp_path
    mirror.start(pull=False)
    (mirror.local / "stages").mkdir()
    (mirror.local / "stages" / "00_convert.parquet").write_bytes(b"one")
    (mirror.local / "manifest.json").write_text("{}")
    (mirror.local / "x.parquet.tmp").write_bytes(b"half written")
    assert mirror.push() == ["stages/00_convert.parquet", "manifest.json"]
    assert mirror.push() == []
    (mirror.local / "manifest.json").write_text('{"a": 1}')
    assert mirror.push() == ["manifest.json"]
    assert fs.cat_file(f"{path}/run/manifest.json") == b'{"a": 1}'
    assert sorted(fs.find(f"{path}/run")) == [f"{path}/run/manifest.json",
                                              f"{path}/run/stages/00_convert.parquet"]
    mirror.close()
    assert not mirror.local.exists()


def test_pull_takes_all_but_the_final_files(memory_root, tmp_path):
    url, path = memory_root
    fs = fsspec.filesystem("memory")
    for rel in ("manifest.json", "stages/00_convert.parquet", "rejected/00_convert.parquet",
                "cache/scores/x.parquet", "data.parquet", "report.html", "export/trl-sft/README.md"):
        fs.pipe_file(f"{path}/run/{rel}", rel.encode())
    mirror = RunMirror(f"{url}/run", root=tmp_path)
    (tmp_path / mirror.local.name).mkdir(parents=True)
    (mirror.local / "stale.txt").write_text("from an older run")
    mirror.start(pull=True)
    got = sorted(p.relative_to(mirror.local).as_posix() for p in mirror.local.rglob("*")
                 if p.is_file())
    assert got == ["cache/scores/x.parquet", "manifest.json", "rejected/00_convert.parquet",
                   "stages/00_convert.parquet"]
    assert (mirror.local / "manifest.json").read_text() == "manifest.json"
    assert mirror.push() == []  # what was pulled is not sent back


def test_staging_root_and_bad_urls(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_HOME", str(tmp_path))
    assert staging_root() == tmp_path / "runs"
    monkeypatch.delenv("CURATE_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert staging_root() == tmp_path / "c" / "curate" / "runs"
    with pytest.raises(CurateError, match="nope://x: not a usable fsspec URL"):
        RunMirror("nope://x")
