"""Commerce marts (seed 003): full build, tick after a mutate round, second tick, rebuild.

Figures per model come from dbt's run_results.json (execution time of the model itself,
hooks included); `*_wall_s` include the dbt process start (~3-4 s).
"""

from __future__ import annotations

import json
import time

from orchestration import datagen, runtime
from orchestration.db import database

USAGE, STATS = "agg_integration_usage_daily", "agg_sending_stats_30d"


def _dbt(*args: str) -> tuple[float, dict[str, float]]:
    t0 = time.perf_counter()
    runtime.run_dbt(["run", *args], capture=True, quiet=True)
    wall = time.perf_counter() - t0
    results = json.loads((runtime.TARGET_DIR / "run_results.json").read_text())["results"]
    return wall, {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results}


def _affected(conn) -> int:
    row = conn.execute(
        "select affected_buckets from ops.mart_runs where mart = %s order by finished_at desc limit 1",
        (USAGE,),
    ).fetchone()
    return int(row[0] or 0) if row else 0


def run(scale: float) -> dict:
    db = database()
    with db.connect() as conn:
        if (
            conn.execute("select to_regclass('raw.shops')").fetchone()[0] is None
            or not conn.execute("select exists (select 1 from raw.shops)").fetchone()[0]
        ):
            datagen.generate(conn, scale=scale, seed=42, force=True, domains=["commerce"])
            conn.commit()
        orders = conn.execute("select count(*) from raw.orders").fetchone()[0]
        emails = conn.execute("select count(*) from raw.emails").fetchone()[0]
        shops = conn.execute("select count(*) from raw.shops").fetchone()[0]

    full_wall, full = _dbt("--select", f"+{USAGE}", f"+{STATS}", "--full-refresh")
    with db.connect() as conn:
        changed = datagen.mutate(conn, seed=7)
        conn.commit()
    tick_wall, tick = _dbt("--select", USAGE)
    with db.connect() as conn:
        tick_affected = _affected(conn)
    # a second tick right away: no new changes, but the watermark lag (10 min) re-reads
    # the same changed rows, so it recomputes the same days once more
    _, again = _dbt("--select", USAGE)
    rebuild_wall, rebuild = _dbt("--select", STATS)
    with db.connect() as conn:
        again_affected = _affected(conn)
        usage_rows = conn.execute(f"select count(*) from marts.{USAGE}").fetchone()[0]
    return {
        "shops": shops,
        "raw_orders": orders,
        "raw_emails": emails,
        "usage_rows": usage_rows,
        "usage_full_build_s": round(full[USAGE], 3),
        "mutated_orders": sum(v for k, v in changed.items() if k.startswith("orders.")),
        "usage_tick_after_mutate_s": round(tick[USAGE], 3),
        "usage_tick_after_mutate_affected_buckets": tick_affected,
        "usage_second_tick_s": round(again[USAGE], 3),
        "usage_second_tick_affected_buckets": again_affected,
        "sending_stats_rebuild_s": round(rebuild[STATS], 3),
        "sending_stats_full_build_s": round(full[STATS], 3),
        "full_build_wall_s": round(full_wall, 2),
        "tick_wall_s": round(tick_wall, 2),
        "rebuild_wall_s": round(rebuild_wall, 2),
    }
