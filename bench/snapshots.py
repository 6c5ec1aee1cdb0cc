"""Snapshot reports (seed 001): full build, one-day recompute, report reads - at two sizes.

Seed 001 asks for 25,000 and 10,000,000 analytics events. ``run(scale)`` measures the
seed's size (scale 1 = 25k events, figures prefixed ``seed_``) and then ``scale`` (the
harness passes 4x the common scale: ``--scale 100`` = 10M events), unless they are the
same. The database is left at ``scale``.

* ``full_build_s`` - dbt model time of the first build of metric_snapshots (incl. the
  rank-prefix running totals of its post-hook).
* ``recompute_day_*`` - a recompute of one UTC day (30 days ago) across every report and
  window through the recompute-run lifecycle: model time, wall time incl. the dbt
  process start; raw rows of that day, of its ISO week (what the run reads: the week
  bucket holding the day is rebuilt too) and of the whole history; snapshot rows it
  replaced; rank-prefix rows it rewrote (the 13-week block holding the day, from
  snapshot rows).
* ``*_page_ms`` - after a vacuum analyze of the two tables (what autovacuum does after
  the build), median of 15 uncached ``run_report`` calls over the last 90 days, each
  opening its reader connection; ``top_entities_*_rank_rows`` - the rows its ranking
  reads (day buckets + running-total rows), against ``*_rank_rows_plain``, the
  (bucket, entity) rows of the range that summing every bucket would read.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from orchestration import datagen, runtime
from orchestration.db import database
from orchestration.reader import snapshots as reader
from orchestration.reader.connection import reader_connection
from orchestration.snapshots.runs import execute_recompute

from ._common import count_rows, main, median_ms, model_times, timed_dbt

SEED_SCALE = 1.0  # 25,000 events


def _at(d) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _rank_rows(conn, window: str, date_from, date_to) -> tuple[int, int]:
    """Rows the top-entities ranking reads with the reader's plan, and without it."""
    catalog = reader.load_catalog(conn)
    q = reader.validate(
        catalog,
        "top-entities",
        window=window,
        date_from=date_from,
        date_to=date_to,
        breakdown=None,
        filters=None,
        limit=50,
        offset=0,
    )
    params = reader._params(q)
    probe = [window] + (["week"] if window == "day" else [])
    probed = conn.execute(
        reader._SQL_BUCKET_RUNS,
        {**params, "probe_windows": probe, "probe_metric": "events", "verify": len(probe) > 1},
    ).fetchall()
    runs = {(r["window_name"], r["bucket_start"].astimezone(UTC)): r["run_id"] for r in probed}
    verified = frozenset(
        (r["window_name"], r["bucket_start"].astimezone(UTC)) for r in probed if r["verified"]
    )
    plan = reader._plan(q, runs, params["lo"], params["hi"], verified)
    scanned = 0
    for w, lo, hi in zip(plan["scans_windows"], plan["scans_los"], plan["scans_his"], strict=True):
        scanned += conn.execute(
            "select count(*) as n from marts.metric_snapshots where report_slug = 'top-entities'"
            " and window_name = %s and metric_name = 'events' and bucket_start >= %s"
            " and bucket_start < %s",
            (w, lo, hi),
        ).fetchone()["n"]
    for bucket in plan["term_buckets"]:
        scanned += conn.execute(
            "select count(*) as n from marts_internal.metric_snapshots_rank_prefix"
            " where report_slug = 'top-entities' and bucket_start = %s",
            (bucket,),
        ).fetchone()["n"]
    plain = conn.execute(
        "select count(*) as n from marts.metric_snapshots where report_slug = 'top-entities'"
        " and window_name = %s and metric_name = 'events' and bucket_start >= %s"
        " and bucket_start < %s",
        (window, params["lo"], params["hi"]),
    ).fetchone()["n"]
    return scanned, plain


def measure(scale: float) -> dict:
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
    recompute = model_times()["metric_snapshots"]
    with db.connect(autocommit=True) as conn:
        # what autovacuum does after a bulk write, done now so the reads are measured on
        # settled tables (visibility map, statistics)
        conn.execute("vacuum analyze marts.metric_snapshots")
        conn.execute("vacuum analyze marts_internal.metric_snapshots_rank_prefix")

        def count(lo, hi):
            return conn.execute(
                "select count(*) from raw.analytics_events where occurred_at >= %s and occurred_at < %s",
                (_at(lo), _at(hi)),
            ).fetchone()[0]

        day_rows = count(day, day + timedelta(days=1))
        week_rows = count(monday, monday + timedelta(days=7))
        snapshot_rows = count_rows(conn, "marts.metric_snapshots")
        prefix_rows = count_rows(conn, "marts_internal.metric_snapshots_rank_prefix")
        prefix_rewritten = conn.execute(
            "select count(*) from marts_internal.metric_snapshots_rank_prefix where run_id = %s",
            (outcome.summary.get("dbt_invocation_id"),),
        ).fetchone()[0]

    span = {"date_from": today - timedelta(days=89), "date_to": today}
    out = {
        "scale": scale,
        "events": events,
        "snapshot_rows": snapshot_rows,
        "rank_prefix_rows": prefix_rows,
        "full_build_s": round(full, 2),
        "full_build_wall_s": round(full_wall, 2),
        "recompute_day_status": outcome.status,
        "recompute_day_model_s": round(recompute, 3),
        "recompute_day_wall_s": round(recompute_wall, 2),
        "recompute_day_raw_rows_day": day_rows,
        "recompute_day_raw_rows_read_week": week_rows,
        "recompute_day_raw_rows_history": events,
        "recompute_day_rows_replaced": int(outcome.summary.get("rows_inserted", 0)),
        "recompute_day_rank_prefix_rows_rewritten": prefix_rewritten,
    }
    with reader_connection(db) as conn:
        for window in ("week", "day"):
            rows, plain = _rank_rows(conn, window, **span)
            out[f"top_entities_{window}_rank_rows"] = rows
            out[f"top_entities_{window}_rank_rows_plain"] = plain
    for name, kwargs in {
        "top_entities_week_page_ms": {"slug": "top-entities", "window": "week", "limit": 50},
        "top_entities_day_page_ms": {"slug": "top-entities", "window": "day", "limit": 50},
        "top_entities_week_last_page_ms": {
            "slug": "top-entities",
            "window": "week",
            "limit": 50,
            "offset": 400,
        },
        "top_entities_day_last_page_ms": {
            "slug": "top-entities",
            "window": "day",
            "limit": 50,
            "offset": 400,
        },
        "volume_by_period_source_ms": {"slug": "volume-by-period", "breakdown": "source"},
        "status_counts_ms": {"slug": "status-counts"},
    }.items():
        args = dict(kwargs)
        slug = args.pop("slug")
        out[name] = median_ms(
            lambda slug=slug, args=args: reader.run_report(slug, **span, **args, use_cache=False),
            15,
        )
    out["top_entities_cached_ms"] = median_ms(
        lambda: reader.run_report("top-entities", **span, limit=50), 15
    )
    return out


def run(scale: float) -> dict:
    out: dict = {}
    if scale != SEED_SCALE:
        out |= {f"seed_{k}": v for k, v in measure(SEED_SCALE).items()}
    return measure(scale) | out


if __name__ == "__main__":
    main(run)
