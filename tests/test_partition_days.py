"""Issue 21: a run's partition marks come from the days its writes recorded, not from a
scan of every mart for its ``run_id``.

One module: demo data (scale 0.02), a full build, one round of datagen mutations plus
the hard delete of every order of one old local day, then a tick through Dagster. The
oracle is the marts themselves: each partitioned mart's rows (every column but
``last_updated``/``run_id``) before and after the tick, compared in Python; a day is
changed when a row of it is gone, new or different, or carries the tick's ``run_id``
(metric_snapshots replaces its ranges whole, so a recomputed range with the same values
is rewritten, and the table names the tick as its writer). The days ``partition_status`` reads
for the tick, and the marks the tick logged, are exactly those days (a day whose rows
were only deleted included: docs/ui.md), and reading them scans no mart
(``pg_stat_user_tables.seq_scan``). The previous code scanned every mart for the tick's
``run_id`` and missed the deleted-only days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg
import pytest
from conftest import query

from orchestration import datagen, runtime

pytestmark = pytest.mark.slow

# partitioned marts (asset incremental_marts, with a day): their table and day column
# (bucket_start: a UTC instant, its UTC date)
PARTITIONED = {
    "agg_order_daily": ("marts.agg_order_daily", "day_bucket"),
    "agg_order_customer_daily": ("marts.agg_order_customer_daily", "day_bucket"),
    "agg_order_customer_day_pairs": ("marts.agg_order_customer_day_pairs", "day_bucket"),
    # the incremental table (the public view adds its blocks' bases)
    "agg_order_running_totals": ("marts_internal.agg_order_running_totals", "day_bucket"),
    "agg_support_rollup_daily": ("marts.agg_support_rollup_daily", "day_bucket"),
    "agg_integration_usage_daily": ("marts.agg_integration_usage_daily", "day"),
    "agg_execution_metrics_hourly": ("marts.agg_execution_metrics_hourly", "bucket_start"),
    "agg_credit_consumption_hourly": ("marts.agg_credit_consumption_hourly", "bucket_start"),
    "agg_user_activity_hourly": ("marts.agg_user_activity_hourly", "bucket_start"),
    "metric_snapshots": ("marts.metric_snapshots", "bucket_start"),
}


def _day(value: date | datetime) -> date:
    """A mart's day column as a date: an instant (a bucket start) by its UTC date."""
    return value.astimezone(UTC).date() if isinstance(value, datetime) else value


def rows_by_day(url: str, relation: str, day_column: str) -> dict[date, set[tuple]]:
    """Every row of ``relation`` but its lineage columns, grouped by its day."""
    schema, table = relation.split(".")
    columns = [
        c
        for (c,) in query(
            url,
            "select column_name from information_schema.columns"
            " where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, table),
        )
        if c not in ("last_updated", "run_id")
    ]
    at = columns.index(day_column)
    out: dict[date, set[tuple]] = {}
    for row in query(url, f"select {', '.join(columns)} from {relation}"):
        out.setdefault(_day(row[at]), set()).add(row)
    return out


def changed_days(before: dict[date, set[tuple]], after: dict[date, set[tuple]]) -> set[date]:
    return {d for d in before.keys() | after.keys() if before.get(d) != after.get(d)}


def stamped_days(url: str, relation: str, day_column: str, run_id: str) -> set[date]:
    """The days of ``relation`` with a row whose lineage names ``run_id``: a write that
    replaces a range whole (metric_snapshots) stamps rows it recomputed unchanged, and
    the partition marks must match the table (the UI says which run wrote a day)."""
    sql = f"select distinct {day_column} from {relation} where run_id = %s"
    return {_day(value) for (value,) in query(url, sql, (run_id,))}


def seq_scans(url: str) -> dict[str, int]:
    return dict(
        query(
            url,
            "select schemaname || '.' || relname, seq_scan from pg_stat_user_tables"
            " where schemaname in ('marts', 'marts_internal')",
        )
    )


@pytest.fixture(scope="module")
def ticked(tally_db: str) -> dict:
    from orchestration.schedules import tick_run_config

    url = tally_db
    with psycopg.connect(url) as conn:
        datagen.generate(conn, scale=0.02, seed=21)
        conn.commit()
    assert runtime.execute_job("materialize_all").success
    before = {m: rows_by_day(url, *spec) for m, spec in PARTITIONED.items()}
    # the day whose orders go: an old local day with the most order rows
    (gone,) = query(
        url,
        "select day_bucket from marts.agg_order_daily where day_bucket < current_date - 20"
        " group by 1 order by count(*) desc, 1 limit 1",
    )[0]
    with psycopg.connect(url) as conn:
        datagen.mutate(conn, seed=2101)
        # every order of that local day, in its organization's timezone (an invalid one
        # is not aggregated: its rows stay)
        deleted = conn.execute(
            "delete from raw.attributions as a using raw.organizations as o"
            " where a.organization_id = o.id"
            " and o.reporting_timezone in (select name from pg_timezone_names)"
            " and cast(a.ordered_at at time zone o.reporting_timezone as date) = %s",
            (gone,),
        ).rowcount
        conn.commit()
    assert deleted > 0
    tick = runtime.execute_job("tick", run_config=tick_run_config(False))
    assert tick.success
    after = {m: rows_by_day(url, *spec) for m, spec in PARTITIONED.items()}
    (invocation,) = query(url, "select distinct run_id from ops.mart_runs where mode = 'tick'")[0]
    return {
        "url": url,
        "run": tick.run_id,
        "invocation": invocation,
        "gone": gone,
        # what the tick changed (a row gone, new or different) or wrote (stamped with
        # its run_id, even with the same values)
        "oracle": {
            m: changed_days(before[m], after[m]) | stamped_days(url, *spec, invocation)
            for m, spec in PARTITIONED.items()
        },
    }


def test_a_ticks_days_are_the_days_its_rows_changed_read_without_a_scan(ticked: dict) -> None:
    from dagster import AssetKey

    from orchestration.partition_status import days_written

    url, invocation, oracle = ticked["url"], ticked["invocation"], ticked["oracle"]
    # the deleted day: gone from the day marts, so no row names the tick there
    assert ticked["gone"] in oracle["agg_order_daily"]
    assert not query(
        url, "select 1 from marts.agg_order_daily where day_bucket = %s", (ticked["gone"],)
    )
    assert sum(len(days) for days in oracle.values()) > 20, oracle

    scans = seq_scans(url)
    with psycopg.connect(url, autocommit=True) as conn:
        read = {m: days_written(conn, AssetKey(["marts", m]), invocation) for m in PARTITIONED}
        conn.execute("select pg_stat_force_next_flush()")  # this backend's scans, now
        conn.execute("select 1")
    assert seq_scans(url) == scans
    assert {m: set(days) for m, days in read.items()} == oracle
    assert all(days == sorted(days) for days in read.values())


def test_the_tick_marked_each_changed_day_once_naming_its_run(ticked: dict) -> None:
    from dagster import AssetKey, DagsterInstance

    from orchestration.partitions import daily_partitions

    valid = set(daily_partitions.get_partition_keys())
    marked, expected = {}, {}
    with DagsterInstance.get() as instance:
        for mart, days in ticked["oracle"].items():
            records = instance.fetch_materializations(AssetKey(["marts", mart]), limit=10_000)
            assert not records.has_more
            mine = [
                r
                for r in records.records
                if r.run_id == ticked["run"] and r.partition_key is not None
            ]
            marks = [r.partition_key for r in mine]
            assert len(marks) == len(set(marks)), mart
            names = {r.asset_materialization.metadata["invocation_id"].value for r in mine}
            assert names <= {ticked["invocation"]}, (mart, names)
            marked[mart] = set(marks)
            expected[mart] = {d.isoformat() for d in days} & valid
    assert marked == expected


def test_a_full_build_records_no_days_and_is_marked_from_its_rows(ticked: dict) -> None:
    """The full build (create table as) records nothing: its marks come from its rows'
    run_id, the scan it keeps."""
    from dagster import AssetKey

    from orchestration.partition_status import days_written

    url = ticked["url"]
    (full,) = query(
        url,
        "select run_id from ops.mart_runs where mode = 'full' and mart = 'agg_user_activity_hourly'",
    )[0]
    assert not query(url, "select 1 from ops.mart_days_written where run_id = %s", (full,))
    with psycopg.connect(url) as conn:
        days = days_written(conn, AssetKey(["marts", "agg_user_activity_hourly"]), full)
    rows = query(
        url,
        "select distinct (bucket_start at time zone 'UTC')::date from"
        " marts.agg_user_activity_hourly where run_id = %s",
        (full,),
    )
    assert days == sorted(d for (d,) in rows) and len(days) > 10
