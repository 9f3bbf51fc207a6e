"""Output folders checked before work starts, and OS errors while writing as one line."""

import os

import polars as pl
import pytest

from curate.errors import CurateError
from curate.io.output import prepare_output, writing
from curate.io.parquet import write_parquet
from curate.os_errors import os_error_message


def test_prepare_output_leaves_nothing_behind(tmp_path):
    prepare_output(tmp_path / "a" / "b")
    assert list(tmp_path.iterdir()) == []
    prepare_output("memory://anything")  # a URL is checked when it is written
    (tmp_path / "f").write_text("x")
    with pytest.raises(CurateError, match="this is a file, not a folder"):
        prepare_output(tmp_path / "f")
    with pytest.raises(CurateError, match="is a file, so no folder can be made in it"):
        prepare_output(tmp_path / "f" / "g" / "h")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_device_through_polars_and_python():
    with pytest.raises(CurateError) as exc, writing("out"):
        pl.DataFrame({"a": list(range(100_000))}).write_parquet("/dev/full")
    assert str(exc.value) == ("-o out: no space left on device (errno 28); free some space or "
                              "write elsewhere with -o")
    try:
        with open("/dev/full", "w") as fh:
            fh.write("x" * 100_000)
    except OSError as err:
        assert os_error_message(err) == ("no space left on device (errno 28); free some space "
                                         "or write elsewhere with -o")
    with pytest.raises(ValueError), writing("out"):  # not an OS error: left alone
        raise ValueError("x")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_device_met_at_the_footer_is_still_a_full_device():
    """Small records (many nested columns, all in polars' buffer until the footer): polars says
    only "Invalid thrift: transport error"; write_parquet finds the full device behind it."""
    from curate.records import records_to_frame

    df = records_to_frame([{"kind": "sft", "id": "a", "source": "s", "meta": {}, "messages": [
        {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}])
    with pytest.raises(Exception, match="transport error"):
        df.write_parquet("/dev/full")
    with pytest.raises(CurateError) as exc, writing("out"):
        write_parquet(df, "/dev/full")
    assert str(exc.value) == ("-o out: no space left on device (errno 28); free some space or "
                              "write elsewhere with -o")
