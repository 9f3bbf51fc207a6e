"""The SVG bar charts drawn without matplotlib (the funnel, the dedup cluster sizes)."""

import xml.etree.ElementTree as ET

from curate.report.bars import nice_ticks, stacked_hbars, vbars
from curate.report.plots import funnel_svg

SVG = "{http://www.w3.org/2000/svg}"


def _bars(svg: str) -> list[dict[str, str]]:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    return [dict(r.attrib, title=r.findtext(f"{SVG}title")) for r in root.iter(f"{SVG}rect")
            if r.findtext(f"{SVG}title")]


def test_ticks_are_round_and_cover_the_top():
    assert nice_ticks(38_038) == [0, 10_000, 20_000, 30_000, 40_000]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0) == [0.0, 1.0]


def test_stacked_rows_scale_by_value_and_escape_labels():
    svg = stacked_hbars([("00 <convert>", [(40, "#2ca02c", "kept")]),
                         ("01 dedup", [(30, "#2ca02c", "kept"), (10, "#d62728", "dup & co"),
                                       (0, "#ff7f0e", "empty")])],
                        title="Rows", xlabel="rows")
    bars = _bars(svg)
    assert [b["title"] for b in bars] == ["kept: 40", "kept: 30", "dup & co: 10"]
    widths = [float(b["width"]) for b in bars]
    assert widths[0] == widths[1] + widths[2] and widths[1] == 3 * widths[2]
    assert "00 &lt;convert&gt;" in svg and ">empty</text>" in svg  # in the legend only


def test_vertical_bars_one_per_label():
    svg = vbars(["2", "3", "4"], [1862, 48, 2], title="Duplicate clusters by size",
                xlabel="cluster size (records)", ylabel="clusters")
    bars = _bars(svg)
    assert [b["title"] for b in bars] == ["2: 1,862", "3: 48", "4: 2"]
    heights = [float(b["height"]) for b in bars]
    assert abs(heights[0] / heights[1] - 1862 / 48) < 0.05


def test_funnel_stacks_the_drop_reasons_after_the_kept_rows():
    svg = funnel_svg([
        {"index": 0, "name": "convert", "rows_out": 10, "dropped": {}},
        {"index": 1, "name": "q", "rows_out": 6, "dropped": {"junk": 3, "short": 1}}])
    assert [b["title"] for b in _bars(svg)] == ["kept: 10", "kept: 6", "junk: 3", "short: 1"]
    assert "Rows kept and dropped per stage" in svg
