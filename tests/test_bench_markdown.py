"""docs/benchmarks.md keeps one section per benchmark and scale (issue 21 item 4)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/ is not installed
from bench.__main__ import MARKER, write_markdown

MACHINE = {"cores": "2"}


def _payload(stamp: str, scale: float, figures: dict) -> dict:
    return {"stamp": stamp, "scale": scale, "machine": MACHINE, "results": figures}


def test_a_run_at_another_scale_keeps_the_scale_100_tables(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\nprose stays\n\n")
    write_markdown(
        _payload("R100", 100.0, {"orders": {"bare_s": 8.5}, "tick": {"wall": 9.0}}), page
    )
    write_markdown(_payload("R1", 1.0, {"tick": {"wall": 7.1}}), page)
    text = page.read_text()
    assert text.startswith("# Benchmarks\n\nprose stays\n\n" + MARKER)
    assert (
        "| bare_s | 8.500 |" in text and "| wall | 9.000 |" in text and "| wall | 7.100 |" in text
    )
    assert text.index("## Scale 100") < text.index("Run R100") < text.index("## Scale 1\n")
    assert text.index("## Scale 1\n") < text.index("Run R1,")

    # the next scale-100 run of one benchmark replaces that section only
    write_markdown(_payload("R100b", 100.0, {"tick": {"wall": 8.0}}), page)
    text = page.read_text()
    assert "| wall | 9.000 |" not in text and "| wall | 8.000 |" in text
    assert "| bare_s | 8.500 |" in text and "| wall | 7.100 |" in text
    assert text.count("### tick") == 2 and text.count("### orders") == 1
