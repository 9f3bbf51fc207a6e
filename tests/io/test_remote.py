"""Inputs at fsspec URLs, on fsspec's real in-process ``memory://`` file system and ``file://``."""

import gzip
import hashlib
import io
import json
import uuid
import zipfile

import fsspec
import polars as pl
import pytest

from curate.convert import convert
from curate.errors import CurateError, InputError
from curate.io import input_files, is_record_input, iter_rows, read_records
from curate.io.remote import RemoteFile, is_url, redact
from curate.manifest import describe_inputs
from curate.records import records_to_frame


def memory_folder():
    """A fresh folder on fsspec's memory file system, as (URL, file system path); the
    ``memory_root`` fixture of the modules that use it."""
    fs = fsspec.filesystem("memory")
    path = f"/t-{uuid.uuid4().hex[:8]}"
    yield f"memory://{path.lstrip('/')}", path
    if fs.exists(path):
        fs.rm(path, recursive=True)


_memory_root = pytest.fixture(memory_folder, name="memory_root")


def put(path: str, data: bytes | str) -> None:
    fsspec.filesystem("memory").pipe_file(path, data.encode() if isinstance(data, str) else data)


def test_urls_and_credentials():
    assert is_url("s3://bucket/a.parquet") and is_url("zip::file:///tmp/a.zip")
    assert is_url("memory://x") and is_url("file:///tmp/x")
    assert not is_url("data/a.jsonl") and not is_url("/tmp/a.jsonl") and not is_url("C:\\x")
    assert redact("https://user:pw@host.org/a.jsonl?sig=1&se=2") == "https://host.org/a.jsonl"
    assert redact("zip://a.jsonl::s3://key:secret@bucket/t.zip") == "zip://a.jsonl::s3://bucket/t.zip"
    assert redact("gs://bucket/shards/a?.parquet") == "gs://bucket/shards/a?.parquet"  # a glob
    assert redact("s3://bucket/a.parquet") == "s3://bucket/a.parquet"


def test_folder_walk_like_a_local_folder(memory_root):
    url, path = memory_root
    put(f"{path}/b/z.jsonl", '{"a": 3}\n')
    put(f"{path}/.git/x.jsonl", '{"a": 0}\n')
    put(f"{path}/a.csv.gz", gzip.compress(b"a\n1\n"))
    put(f"{path}/c.json", '[{"a": 4}]')
    put(f"{path}/.hidden.jsonl", '{"a": 9}\n')
    put(f"{path}/notes.xyz", "whatever")
    put(f"{path}/readme.md", "# doc")
    files = input_files(url)
    assert all(isinstance(f, RemoteFile) for f in files)
    assert [str(f) for f in files] == [f"{url}/a.csv.gz", f"{url}/b/z.jsonl", f"{url}/c.json",
                                       f"{url}/readme.md"]
    assert [(r.file, r.line, r.data) for r in iter_rows(url)] == [
        (f"{url}/a.csv.gz", 2, {"a": "1"}), (f"{url}/b/z.jsonl", 1, {"a": 3}),
        (f"{url}/c.json", 1, {"a": 4})]


def test_parquet_glob_and_run_folder(memory_root, tmp_path):
    url, path = memory_root
    for i in range(2):
        buf = io.BytesIO()
        pl.DataFrame({"instruction": [f"q{i}?"], "output": [f"answer {i}"]}).write_parquet(buf)
        put(f"{path}/shards/part-{i}.parquet", buf.getvalue())
    put(f"{path}/shards/skip.jsonl", '{"a": 1}\n')
    files = input_files(f"{url}/shards/*.parquet")
    assert [str(f) for f in files] == [f"{url}/shards/part-0.parquet",
                                       f"{url}/shards/part-1.parquet"]
    res = convert(f"{url}/shards/*.parquet")
    assert res.frame["messages"].list.get(1).struct.field("content").to_list() == [
        "answer 0", "answer 1"]
    assert res.formats == {f"{url}/shards/part-0.parquet": "alpaca",
                           f"{url}/shards/part-1.parquet": "alpaca"}
    with pytest.raises(InputError, match=r"/shards/\*\.csv: no readable files match"):
        input_files(f"{url}/shards/*.csv")

    records = records_to_frame([{"kind": "sft", "source": "s", "messages": [
        {"role": "user", "content": "hi?"}, {"role": "assistant", "content": "hello"}]}])
    buf = io.BytesIO()
    records.write_parquet(buf)
    put(f"{path}/run/data.parquet", buf.getvalue())
    put(f"{path}/run/manifest.json", "{}")
    assert is_record_input(f"{url}/run") and not is_record_input(f"{url}/shards")
    assert read_records(f"{url}/run").equals(records)
    assert [str(f) for f in input_files(url)] == [
        f"{url}/run/data.parquet", f"{url}/shards/part-0.parquet",
        f"{url}/shards/part-1.parquet", f"{url}/shards/skip.jsonl"]


def test_bad_line_names_the_url_line_and_field(memory_root):
    url, path = memory_root
    good = json.dumps({"instruction": "q?", "output": "a"})
    put(f"{path}/a.jsonl", "\n".join([good, '{"instruction": "broken", ', good]) + "\n")
    with pytest.raises(InputError) as err:
        convert(f"{url}/a.jsonl")
    assert str(err.value).startswith(f"{url}/a.jsonl:2: invalid JSON")
    put(f"{path}/b.jsonl", good + "\n" + json.dumps({"instruction": "q2?", "output": 3}) + "\n")
    with pytest.raises(InputError, match=rf"^{url}/b.jsonl:2: field 'output': expected a string"):
        convert(f"{url}/b.jsonl")
    res = convert(f"{url}/a.jsonl", on_error="skip")
    assert res.rejected.select("file", "line", "drop_reason").rows() == [
        (f"{url}/a.jsonl", 2, "invalid_json")]
    assert res.formats == {f"{url}/a.jsonl": "alpaca"}


def test_missing_urls_are_clear_errors(memory_root):
    url, _ = memory_root
    with pytest.raises(InputError, match=rf"^{url}/nope.jsonl: no such file or folder$"):
        input_files(f"{url}/nope.jsonl")
    with pytest.raises(InputError, match=r"t\.zip: no such file or folder"):
        input_files(f"zip::{url}/t.zip")
    with pytest.raises(CurateError, match="nope://x: not a usable fsspec URL"):
        input_files("nope://x")
    with pytest.raises(CurateError, match="s3://bucket/a.parquet: Install s3fs"):
        input_files("s3://key:secret@bucket/a.parquet")


def test_zip_chain_and_file_urls(memory_root, tmp_path):
    url, path = memory_root
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("data/a.jsonl", '{"a": 1}\n{"a": 2}\n')
    put(f"{path}/t.zip", buf.getvalue())
    assert [(r.file, r.data) for r in iter_rows(f"zip::{url}/t.zip")] == [
        (f"zip://data/a.jsonl::{url}/t.zip", {"a": 1}), (f"zip://data/a.jsonl::{url}/t.zip", {"a": 2})]
    (tmp_path / "x.jsonl").write_text('{"b": 1}\n')
    assert [r.data for r in iter_rows(f"file://{tmp_path}/x.jsonl")] == [{"b": 1}]


def test_manifest_hash_is_of_the_bytes_read(memory_root):
    url, path = memory_root
    data = b'{"a": 1}\n'
    put(f"{path}/a.jsonl", data)
    assert describe_inputs(input_files(f"{url}/a.jsonl")) == [
        {"path": f"{url}/a.jsonl", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}]
    put(f"{path}/a.jsonl", b'{"a": 2}\n')  # a new version of the file is read again
    assert [r.data for r in iter_rows(f"{url}/a.jsonl")] == [{"a": 2}]


class _Forbidden(fsspec.AbstractFileSystem):
    """A backend that answers every look-up with its own permission error, as S3 does for a
    wrong key."""

    protocol = "forbidden"

    def info(self, path, **kwargs):
        raise PermissionError("Access Denied (the key may not read this bucket)")

    def ls(self, path, detail=True, **kwargs):
        raise PermissionError("Access Denied (the key may not read this bucket)")


def test_auth_errors_are_said_not_taken_for_a_wrong_format(monkeypatch):
    fsspec.register_implementation("forbidden", _Forbidden, clobber=True)
    url = "forbidden://bucket/run"
    with pytest.raises(InputError, match="forbidden://bucket/run: cannot read: PermissionError: "
                                         "Access Denied"):
        is_record_input(url)
    with pytest.raises(InputError, match="cannot read: PermissionError: Access Denied"):
        read_records(url)


def test_a_run_folder_at_a_url_with_data_as_parts(memory_root):
    url, path = memory_root
    records = records_to_frame([{"kind": "sft", "source": "s", "id": f"r{i}", "messages": [
        {"role": "user", "content": f"q{i}?"}, {"role": "assistant", "content": "a"}]}
        for i in range(3)])
    for i in range(3):
        buf = io.BytesIO()
        records.slice(i, 1).write_parquet(buf)
        put(f"{path}/run/data.parquet/part-{i:05d}.parquet", buf.getvalue())
    put(f"{path}/run/manifest.json", "{}")
    assert is_record_input(f"{url}/run")
    assert read_records(f"{url}/run").equals(records)
    assert convert(f"{url}/run").frame.equals(records)
    assert [str(f) for f in input_files(url)] == [
        f"{url}/run/data.parquet/part-{i:05d}.parquet" for i in range(3)]
