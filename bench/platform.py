"""Platform rollups (seed 004): full build, ticks touching 0 / 10 / 40 old days, daily and
weekly rollups, concurrent view refresh, cleanup dry run.

Seed targets: hourly rollup < 5 min, daily < 15 min, weekly < 30 min, view refresh < 2 min.
The hourly tick's time should follow the number of changed days, not the history:
compare `hourly_tick_*_s` with `hourly_full_build_s`.

Figures per model come from dbt's run_results.json (the model itself, hooks included);
`*_wall_s` include the dbt process start (~3-4 s).
"""

from __future__ import annotations

import time

from orchestration import datagen
from orchestration.db import database
from orchestration.platform import cleanup

from ._common import affected_buckets, count_rows, ensure_raw, timed_dbt

HOURLY = "agg_execution_metrics_hourly"
HOURLY_MARTS = [HOURLY, "agg_user_activity_hourly", "agg_credit_consumption_hourly"]
ROLLUPS = ["agg_execution_metrics_daily", "agg_execution_metrics_weekly"]
VIEWS = ["mv_hourly_execution_stats", "mv_daily_user_metrics", "mv_workspace_summary"]


def _touch_days(conn, days: int) -> None:
    """A source change in `days` distinct old days (one execution each), as a tick sees it."""
    if days:
        conn.execute(
            """
            update raw.executions set updated_at = now()
            where id in (
                select min(id) from raw.executions
                where started_at < now() - interval '10 days'
                group by date_trunc('day', started_at, 'UTC')
                order by 1 desc
                limit %s
            )
            """,
            (days,),
        )
    conn.commit()
    time.sleep(0.01)


def run(scale: float) -> dict:
    db = database()
    with db.connect() as conn:
        ensure_raw(conn, scale, "platform", "executions")
        executions = count_rows(conn, "raw.executions")
        activity = count_rows(conn, "raw.user_activity")
        # a from-scratch build: drop the platform marts (views first) and their progress
        for name in VIEWS:
            conn.execute(f"drop materialized view if exists marts.{name}")
        for name in HOURLY_MARTS + ROLLUPS:
            conn.execute(f"drop table if exists marts.{name}")
        if conn.execute("select to_regclass('ops.aggregation_progress')").fetchone()[0]:
            conn.execute(
                "delete from ops.aggregation_progress where mart = any(%s)",
                (HOURLY_MARTS + ROLLUPS,),
            )
            conn.execute("delete from ops.platform_rollup_queue")
            conn.execute("delete from ops.retention_horizons")
        conn.commit()

    select = ["--select", "+path:models/marts/platform"]
    full_wall, full = timed_dbt("run", *select)
    out: dict = {
        "raw_executions": executions,
        "raw_user_activity": activity,
        "hourly_full_build_s": round(full[HOURLY], 3),
        "all_hourly_full_build_s": round(sum(full[m] for m in HOURLY_MARTS), 3),
        "daily_full_build_s": round(full[ROLLUPS[0]], 3),
        "weekly_full_build_s": round(full[ROLLUPS[1]], 3),
        "full_build_wall_s": round(full_wall, 2),
    }
    for days in (0, 10, 40):
        with db.connect() as conn:
            _touch_days(conn, days)
        wall, tick = timed_dbt("run", "--select", *HOURLY_MARTS)
        with db.connect() as conn:
            out[f"hourly_tick_{days}_old_days_affected_days"] = affected_buckets(conn, HOURLY)
        out[f"hourly_tick_{days}_old_days_s"] = round(tick[HOURLY], 3)
        out[f"all_hourly_tick_{days}_old_days_s"] = round(sum(tick[m] for m in HOURLY_MARTS), 3)
    with db.connect() as conn:
        changed = datagen.mutate(conn, seed=7)
        conn.commit()
    out["mutated_rows"] = sum(
        v for k, v in changed.items() if k.startswith(("executions", "user_activity"))
    )
    wall, tick = timed_dbt("run", "--select", *HOURLY_MARTS)
    out["hourly_tick_after_mutate_s"] = round(tick[HOURLY], 3)
    out["hourly_tick_wall_s"] = round(wall, 2)
    wall, roll = timed_dbt("run", "--select", *ROLLUPS)
    out["daily_rollup_s"] = round(roll[ROLLUPS[0]], 3)
    out["weekly_rollup_s"] = round(roll[ROLLUPS[1]], 3)
    wall, views = timed_dbt("run", "--select", *VIEWS)
    for name in VIEWS:
        out[f"{name}_concurrent_refresh_s"] = round(views[name], 3)
    out["view_refresh_wall_s"] = round(wall, 2)
    t0 = time.perf_counter()
    report = cleanup.run_cleanup(db.url, dry_run=True)
    out["cleanup_dry_run_s"] = round(time.perf_counter() - t0, 3)
    out["cleanup_dry_run_rows"] = report.total
    return out
