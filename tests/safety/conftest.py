"""The tiny Detoxify checkpoint fixture ``tiny_detoxify`` (see tests/fixtures_detoxify.py)."""

import runpy
from pathlib import Path

tiny_detoxify = runpy.run_path(
    str(Path(__file__).resolve().parents[1] / "fixtures_detoxify.py"))["tiny_detoxify"]
