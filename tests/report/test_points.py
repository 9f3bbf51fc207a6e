"""The SVG histogram and scatter of score columns (quality.ifd's report section)."""

import xml.etree.ElementTree as ET

from curate.report.points import _log_ticks, histogram, scatter

SVG = "{http://www.w3.org/2000/svg}"


def test_histogram_counts_every_value_in_its_bin():
    svg = histogram([0.1, 0.15, 0.9], [1.5, 1.6, float("nan")], title="ifd <x>", xlabel="ifd",
                    bins=4, lines={"max 1.0": 1.0})
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    titles = [r.findtext(f"{SVG}title") for r in root.iter(f"{SVG}rect")
              if r.findtext(f"{SVG}title")]
    # 4 bins over 0.1..1.6 (0.375 wide): kept 2 + 1, dropped 2 in the last bin; NaN left out
    assert titles == ["0.1–0.475: 2 kept", "0.85–1.23: 1 kept", "1.23–1.6: 2 dropped"]
    assert root.findtext(f"{SVG}title") == "ifd <x>"
    assert sum(1 for line in root.iter(f"{SVG}line")
               if line.get("stroke-dasharray")) == 1


def test_scatter_draws_each_point_on_a_log_axis():
    svg = scatter([(10, 0.5), (1000, 0.8)], [(200, 1.4)], title="t", xlabel="chars",
                  ylabel="ifd", log_x=True)
    root = ET.fromstring(svg)
    circles = list(root.iter(f"{SVG}circle"))
    assert [c.get("fill") for c in circles] == ["#2ca02c", "#2ca02c", "#d62728"]
    xs = [float(c.get("cx")) for c in circles]
    assert xs[0] < xs[2] < xs[1]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "10" in texts and "100" in texts and "1,000" in texts


def test_log_ticks_within_one_decade_are_1_2_5():
    assert _log_ticks(1.2, 1.9) == [20, 50]
    assert _log_ticks(0, 6) == [1, 10, 100, 1000, 10_000, 100_000, 1_000_000]
