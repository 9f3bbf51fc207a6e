from __future__ import annotations

import pytest

from curate.engines import get_engine
from curate.errors import CurateError
from curate.records import records_to_frame
from curate.stages.base import StageContext
from curate.stages.dedup_exact import ExactDedup


def test_local_engine_is_stage_apply():
    turns = [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]
    df = records_to_frame([{"id": i, "kind": "sft", "source": "t", "messages": turns}
                           for i in ("a", "b")])
    engine = get_engine("local")
    res = engine.apply(ExactDedup(), df, StageContext())
    assert res.kept["id"].to_list() == ["a"]
    assert res.rejected["kept_id"].to_list() == ["a"]
    assert engine.manifest() == {"engine": "local"}


def test_unknown_engine():
    with pytest.raises(CurateError, match="engine 'spark': expected one of local, ray"):
        get_engine("spark")
