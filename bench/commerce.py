"""Commerce marts (seed 003): full build, tick after a mutate round, second tick, rebuild.

Figures per model come from dbt's run_results.json (execution time of the model itself,
hooks included); `*_wall_s` include the dbt process start (~3-4 s).
"""

from __future__ import annotations

from orchestration import datagen
from orchestration.db import database

from ._common import affected_buckets, count_rows, ensure_raw, timed_dbt

USAGE, STATS = "agg_integration_usage_daily", "agg_sending_stats_30d"


def run(scale: float) -> dict:
    db = database()
    with db.connect() as conn:
        ensure_raw(conn, scale, "commerce", "shops")
        orders = count_rows(conn, "raw.orders")
        emails = count_rows(conn, "raw.emails")
        shops = count_rows(conn, "raw.shops")

    full_wall, full = timed_dbt("run", "--select", f"+{USAGE}", f"+{STATS}", "--full-refresh")
    with db.connect() as conn:
        changed = datagen.mutate(conn, seed=7)
        conn.commit()
    tick_wall, tick = timed_dbt("run", "--select", USAGE)
    with db.connect() as conn:
        tick_affected = affected_buckets(conn, USAGE)
    # a second tick right away: no new changes, but the watermark lag (10 min) re-reads
    # the same changed rows, so it recomputes the same days once more
    _, again = timed_dbt("run", "--select", USAGE)
    rebuild_wall, rebuild = timed_dbt("run", "--select", STATS)
    with db.connect() as conn:
        again_affected = affected_buckets(conn, USAGE)
        usage_rows = count_rows(conn, f"marts.{USAGE}")
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
