"""Benchmark harness: `make bench` / `python -m bench [--scale S] [--only a,b]`.

Runs each domain benchmark (`bench/<domain>.py`, a `run(scale) -> dict` function)
against one database, in one process, and writes the figures to
`bench/results/<stamp>.json` and `docs/benchmarks.md` together with the machine
they ran on. Not part of CI: scale runs take minutes.

Uses TALLY_DATABASE_URL when set; otherwise a dedicated embedded server under
`.tally/bench` (never the demo database).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import re
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ["datagen", "orders", "reader", "support", "snapshots", "commerce", "platform", "tick"]
# Seed 001 asks for 10M analytics events: 25k per unit of scale, so 4x the common scale.
SCALE_FACTOR = {"snapshots": 4.0}


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "--scale", type=float, default=float(os.environ.get("TALLY_BENCH_SCALE", 100))
    )
    parser.add_argument("--only", default=",".join(DOMAINS))
    args = parser.parse_args()

    os.environ.setdefault("TALLY_HOME", str(ROOT / ".tally" / "bench"))
    from orchestration import runtime
    from orchestration.db import database

    db = runtime.activate(database())
    with db.connect() as conn:
        pg_version = conn.execute("show server_version").fetchone()[0]
    info = machine() | {"postgresql": pg_version}

    results: dict[str, dict] = {}
    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for name in [d.strip() for d in args.only.split(",") if d.strip()]:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError:
            print(f"[bench] {name}: no benchmark module, skipped")
            continue
        scale = args.scale * SCALE_FACTOR.get(name, 1.0)
        print(f"[bench] {name} at scale {scale} ...", flush=True)
        t0 = time.perf_counter()
        results[name] = module.run(scale)
        print(
            f"[bench] {name} done in {time.perf_counter() - t0:.0f} s: {json.dumps(results[name], default=str)}"
        )
        _write(
            stamp, args.scale, info, results, started
        )  # after each domain: a cut run keeps what it measured

    print(f"[bench] wrote docs/benchmarks.md and bench/results/{stamp}.json")
    return 0


def _write(stamp: str, scale: float, info: dict, results: dict, started: float) -> None:
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "stamp": stamp,
        "scale": scale,
        "machine": info,
        "results": results,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    (out_dir / f"{stamp}.json").write_text(json.dumps(payload, indent=2, default=str))
    write_markdown(payload)


MARKER = "<!-- bench:results (everything below is rewritten by `make bench`) -->"


SECTION = re.compile(r"(?m)^### ")


def existing_sections(text: str) -> dict[tuple[float, str], str]:
    """The figure sections already in docs/benchmarks.md, keyed by (scale, benchmark):
    a run replaces only the sections of its own scale and benchmarks, so a demo-scale run
    never overwrites the scale-100 tables (results JSON is not committed; the page is)."""
    if MARKER not in text:
        return {}
    out = {}
    for part in SECTION.split(text.split(MARKER, 1)[1])[1:]:
        name = part.split("\n", 1)[0].split()[0]
        found = re.search(r"common scale ([0-9]+(?:[.][0-9]+)?)", part)
        body = part.split("\n## ", 1)[0].rstrip()  # not the next scale's heading
        out[(float(found.group(1)) if found else 100.0, name)] = "### " + body + "\n"
    return out


def section(name: str, stamp: str, scale: float, info: dict, figures: dict) -> str:
    lines = [
        f"### {name} (scale {scale:g})",
        "",
        f"Run {stamp}, common scale {scale}. Machine: "
        + ", ".join(f"{k} {v}" for k, v in info.items()),
        "",
        "| figure | value |",
        "|---|---|",
    ]
    for key, value in figures.items():
        shown = f"{value:,.3f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    return "\n".join(lines) + "\n"


def write_markdown(payload: dict, path: Path = ROOT / "docs" / "benchmarks.md") -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    head = text.split(MARKER)[0]
    sections = existing_sections(text)
    for name, figures in payload["results"].items():
        sections[(float(payload["scale"]), name)] = section(
            name, payload["stamp"], float(payload["scale"]), payload["machine"], figures
        )
    order = {d: i for i, d in enumerate(DOMAINS)}
    lines = [
        MARKER,
        "",
        "## Latest figures per benchmark and scale",
        "",
        "Each section is the newest `make bench` run of that benchmark at that scale (a run",
        "replaces only its own scale's sections); every ratio inside a section is of two",
        "timings from that one run.",
        "",
    ]
    for scale in sorted({s for s, _ in sections}, reverse=True):
        lines += [f"## Scale {scale:g}", ""]
        names = sorted((n for s, n in sections if s == scale), key=lambda n: (order.get(n, 99), n))
        lines += [sections[(scale, n)] for n in names]
    path.write_text(head + "\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
