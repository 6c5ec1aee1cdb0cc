"""Helpers the domain benchmarks share: test data, timed dbt runs, figures from ops tables."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable

from orchestration import datagen, runtime


def ensure_raw(conn, scale: float, domain: str, table: str) -> None:
    """(Re)generate `domain`'s raw data at `scale` (seed 42): the figures must be of that
    scale, whatever an earlier benchmark in the same database left behind."""
    datagen.generate(conn, scale=scale, seed=42, force=True, domains=[domain])
    conn.commit()


def count_rows(conn, table: str) -> int:
    """Rows in `table` (schema-qualified, a name from the benchmark itself)."""
    return conn.execute(f"select count(*) from {table}").fetchone()[0]


def model_times() -> dict[str, float]:
    """Execution time per node name of the last dbt invocation (its run_results.json)."""
    results = json.loads((runtime.TARGET_DIR / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results}


def timed_dbt(*args: str) -> tuple[float, dict[str, float]]:
    """Run dbt with `args`: wall time (incl. the dbt process start) and model_times()."""
    t0 = time.perf_counter()
    runtime.run_dbt(list(args), capture=True, quiet=True)
    wall = time.perf_counter() - t0
    return wall, model_times()


def affected_buckets(conn, mart: str) -> int:
    """Buckets the last logged run of `mart` recomputed (ops.mart_runs)."""
    row = conn.execute(
        "select affected_buckets from ops.mart_runs where mart = %s order by finished_at desc limit 1",
        (mart,),
    ).fetchone()
    return int(row[0] or 0) if row else 0


def median_ms(fn: Callable[[], object], repeat: int, warmup: int = 1) -> float:
    """Median wall time of `repeat` calls of `fn` in ms, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 2)


def main(run: Callable[[float], dict]) -> None:
    """`python -m bench.<domain> [scale]`: run at `scale` (default 1) and print the figures."""
    print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0), indent=2, default=str))
