"""Partition status that matches the tables: one materialization per day a run changed.

A sliding-window run (tick, full build, rebuild) is not a partition-range run, so Dagster
would record one unpartitioned materialization per mart and show every day as missing.
After dbt, :func:`log_day_materializations` reads, per mart, the days this dbt invocation
changed and logs one ``AssetMaterialization(partition=day)`` each, whether Dagster showed
the day before or not: a full build marks every day it built, a tick, a backfill or a
rebuild every day it changed, so each partition's latest materialization names the run
that last changed that day.

Which days a run changed: every incremental write of ``bucket_replace`` (the diff, the
mark-and-sweep, the per-report ranges of metric_snapshots) records the days of the rows it
inserted, updated or deleted in ``ops.mart_days_written (mart, run_id, day)``, in the
write's transaction (macros/bucket_replace/bucket_replace_record_days.sql); the marking
reads them by primary key, one query per mart, and never scans the mart. **A day whose
rows the run only deleted counts as changed** (the run emptied or shrank it, so the
day's latest materialization names that run); only rows whose values change are written
or deleted, so a tick that found nothing new marks nothing. A day is a row's
``day_bucket``/``day``, or the UTC day of an hourly/weekly ``bucket_start``
(:data:`_DAY_COLUMNS`, ``tally.bucket_replace_day``); a mart without one
(agg_campaign_recipient_totals) marks nothing. Deletes outside ``bucket_replace``
(metric_snapshots' retention, the platform cleanup) are not a run's change of a day.

A full build (``create table as``, mode ``full`` in ``ops.mart_runs``) records nothing: it
wrote every row, and is marked from its rows' ``run_id``, one ``select distinct`` of the
mart (the scan the incremental runs avoid; ``run_id`` has no index). So is a mart with
no ``ops.mart_runs`` row of the invocation (not a sliding-window model). Marts are named
by their table (``ops.mart_runs.mart``), the last part of the asset key.

The events are logged with the public ``context.log_event``; Tally's event log storage
(``orchestration/dagster_storage.py``) stores each mart's marks in one batch (the storage
call Dagster uses for a partition-range output) instead of one insert per day. A round of
late changes rewrites a few thousand (mart, day) pairs on the demo data; one write each
costs ~2.4 ms, a batch ~0.4 ms per day (docs/ui.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import date

import psycopg
from dagster import AssetKey, AssetMaterialization

from orchestration.dagster_storage import MARK_TAG
from orchestration.partitions import daily_partitions

# The column that holds a row's day, in the order tried (bucket_start: hourly/weekly
# UTC buckets, their UTC day).
_DAY_COLUMNS = (
    ("day_bucket", "{col}"),
    ("day", "{col}"),
    ("bucket_start", "({col} at time zone 'UTC')::date"),
)


def _day_expr(conn: psycopg.Connection, schema: str, table: str) -> str | None:
    cols = {
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns"
            " where table_schema = %s and table_name = %s",
            (schema, table),
        )
    }
    if "run_id" not in cols:
        return None
    for col, expr in _DAY_COLUMNS:
        if col in cols:
            return expr.format(col=f'"{col}"')
    return None


def recorded_days(conn: psycopg.Connection, mart: str, invocation_id: str) -> list[date] | None:
    """The days the invocation's incremental write of ``mart`` recorded as changed
    (``ops.mart_days_written``), or None when it recorded none: a full build, or no
    sliding-window run of ``mart`` in that invocation (``ops.mart_runs``)."""
    row = conn.execute(
        "select r.mode, array("
        "select d.day from ops.mart_days_written as d"
        " where d.mart = r.mart and d.run_id = r.run_id order by d.day"
        ") from ops.mart_runs as r where r.mart = %s and r.run_id = %s",
        (mart, invocation_id),
    ).fetchone()
    if row is None or row[0] == "full":
        return None
    return list(row[1])


def days_written(conn: psycopg.Connection, key: AssetKey, invocation_id: str) -> list[date]:
    """The days of ``key``'s table this dbt invocation changed: as recorded by its
    incremental write, else (a full build) the days of the rows carrying its ``run_id``."""
    if len(key.path) != 2:
        return []
    schema, table = key.path
    recorded = recorded_days(conn, table, invocation_id)
    if recorded is not None:
        return recorded
    expr = _day_expr(conn, schema, table)
    if expr is None:
        return []
    rows = conn.execute(
        f'select distinct {expr} from "{schema}"."{table}" where run_id = %s',
        (invocation_id,),
    ).fetchall()
    return sorted(r[0] for r in rows if r[0] is not None)


def day_materializations(
    conn: psycopg.Connection, key: AssetKey, invocation_id: str
) -> list[AssetMaterialization]:
    """One materialization per day of ``key`` the invocation wrote, inside the partitions."""
    valid = set(daily_partitions.get_partition_keys())
    return [
        AssetMaterialization(
            asset_key=key,
            partition=day.isoformat(),
            metadata={"invocation_id": invocation_id},
            tags={MARK_TAG: "true"},
        )
        for day in days_written(conn, key, invocation_id)
        if day.isoformat() in valid
    ]


def log_day_materializations(
    context, conn: psycopg.Connection, keys: Iterable[AssetKey], invocation_id: str
) -> int:
    """Log :func:`day_materializations` of every mart in ``keys`` from the running op
    (an asset or op execution context). Returns the count.

    Each is an ordinary ``context.log_event``; the tag :data:`MARK_TAG` lets the Tally
    event log (``orchestration/dagster_storage.py``) store a mart's marks in one batch
    instead of one insert each. With another storage they are stored one by one."""
    total = 0
    for key in dict.fromkeys(keys):
        for event in day_materializations(conn, key, invocation_id):
            context.log_event(event)
            total += 1
    flush = getattr(context.instance.event_log_storage, "flush_marks", None)
    if flush is not None:
        flush()
    return total


def dbt_invocation_id(event) -> str:
    """The dbt invocation of a dagster-dbt Output or AssetMaterialization (its metadata)."""
    value = event.metadata["invocation_id"]
    return getattr(value, "value", value)


def mark_days(
    context, tally_db, invocation_id: str, keys: Iterable[AssetKey], *, failing: bool = False
) -> None:
    """After an unpartitioned run's dbt invocation: mark the days it changed of ``keys`` (the
    marts it materialized) as materialized partitions, and say how many. ``failing``: the
    run is failing already (a model or check failed after others committed); a marking
    that fails then is a warning, not a second error over the first."""
    started = time.perf_counter()
    try:
        with tally_db.connect() as conn:
            n = log_day_materializations(context, conn, keys, invocation_id)
    except Exception as exc:
        if not failing:
            raise
        context.log.warning(f"the days this run wrote were not marked as partitions: {exc}")
        return
    context.log.info(
        f"marked {n} (mart, day) partitions this run changed as materialized"
        f" in {time.perf_counter() - started:.2f} s"
    )
