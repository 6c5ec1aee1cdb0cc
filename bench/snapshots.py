"""Snapshot reports (seed 001): full build, one-day recompute, report reads.

* ``full_build_s`` - dbt model time of the first build of metric_snapshots.
* ``recompute_day_*`` - a recompute of one UTC day (30 days ago) across every report and
  window (the week bucket holding it included) through the recompute-run lifecycle:
  model time, wall time incl. the dbt process start, raw rows of that day and of its
  ISO week (what the run reads), rows it replaced.
* ``*_page_ms`` - median of 15 uncached ``run_report`` calls over the last 90 days.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from orchestration import datagen, runtime
from orchestration.db import database
from orchestration.reader import snapshots as reader
from orchestration.snapshots.runs import execute_recompute

from ._common import count_rows, main, median_ms, model_times, timed_dbt


def _model_time() -> float:
    return model_times()["metric_snapshots"]


def _median_ms(fn) -> float:
    return median_ms(fn, 15)


def run(scale: float) -> dict:
    db = runtime.activate(database())
    with db.connect() as conn:
        datagen.generate(conn, scale=scale, seed=42, force=True, domains=["snapshots"])
        conn.commit()
        events = count_rows(conn, "raw.analytics_events")
    runtime.run_dbt(
        ["seed", "--select", "report_definitions", "aggregate_windows"], capture=True, quiet=True
    )
    full_wall, times = timed_dbt("run", "--select", "+metric_snapshots", "--full-refresh")
    full = times["metric_snapshots"]

    today = datetime.now(UTC).date()
    day = today - timedelta(days=30)
    monday = day - timedelta(days=day.weekday())
    t0 = time.perf_counter()
    outcome = execute_recompute(day, day, requested_by="bench")
    recompute_wall = time.perf_counter() - t0
    recompute = _model_time()
    with db.connect() as conn:

        def count(lo, hi):
            return conn.execute(
                "select count(*) from raw.analytics_events where occurred_at >= %s and occurred_at < %s",
                (
                    datetime(lo.year, lo.month, lo.day, tzinfo=UTC),
                    datetime(hi.year, hi.month, hi.day, tzinfo=UTC),
                ),
            ).fetchone()[0]

        day_rows = count(day, day + timedelta(days=1))
        week_rows = count(monday, monday + timedelta(days=7))
        snapshot_rows = count_rows(conn, "marts.metric_snapshots")

    span = {"date_from": today - timedelta(days=89), "date_to": today}
    out = {
        "scale": scale,
        "events": events,
        "snapshot_rows": snapshot_rows,
        "full_build_s": round(full, 2),
        "full_build_wall_s": round(full_wall, 2),
        "recompute_day_status": outcome.status,
        "recompute_day_model_s": round(recompute, 3),
        "recompute_day_wall_s": round(recompute_wall, 2),
        "recompute_day_raw_rows_day": day_rows,
        "recompute_day_raw_rows_week": week_rows,
        "recompute_day_rows_replaced": int(outcome.summary.get("rows_inserted", 0)),
    }
    for name, kwargs in {
        "top_entities_week_page_ms": {"slug": "top-entities", "window": "week", "limit": 50},
        "top_entities_day_page_ms": {"slug": "top-entities", "window": "day", "limit": 50},
        "top_entities_week_last_page_ms": {
            "slug": "top-entities",
            "window": "week",
            "limit": 50,
            "offset": 400,
        },
        "volume_by_period_source_ms": {"slug": "volume-by-period", "breakdown": "source"},
        "status_counts_ms": {"slug": "status-counts"},
    }.items():
        args = dict(kwargs)
        slug = args.pop("slug")
        out[name] = _median_ms(
            lambda slug=slug, args=args: reader.run_report(slug, **span, **args, use_cache=False)
        )
    out["top_entities_cached_ms"] = _median_ms(
        lambda: reader.run_report("top-entities", **span, limit=50)
    )
    return out


if __name__ == "__main__":
    main(run)
