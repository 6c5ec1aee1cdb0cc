"""Partition status that matches the tables: one materialization per day a run wrote.

A sliding-window run (tick, full build, rebuild) is not a partition-range run, so Dagster
would record one unpartitioned materialization per mart and show every day as missing.
After dbt, :func:`day_materializations` reads, per mart, the local days whose rows carry
this dbt invocation's ``run_id`` (``bucket_replace`` stamps every row it writes) and
yields one ``AssetMaterialization(partition=day)`` each: a full build marks every day it
built, a tick or a rebuild the days it wrote that Dagster did not show yet (see
:func:`day_materializations` for why not every day again). One ``select distinct`` per mart.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

import psycopg
from dagster import AssetKey, AssetMaterialization, DagsterInstance

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


def days_written(conn: psycopg.Connection, key: AssetKey, invocation_id: str) -> list[date]:
    """The days of ``key``'s table whose rows this dbt invocation wrote."""
    if len(key.path) != 2:
        return []
    schema, table = key.path
    expr = _day_expr(conn, schema, table)
    if expr is None:
        return []
    rows = conn.execute(
        f'select distinct {expr} from "{schema}"."{table}" where run_id = %s',
        (invocation_id,),
    ).fetchall()
    return sorted(r[0] for r in rows if r[0] is not None)


def day_materializations(
    conn: psycopg.Connection,
    keys: Iterable[AssetKey],
    invocation_id: str,
    instance: DagsterInstance | None = None,
) -> Iterator[AssetMaterialization]:
    """One materialization per (mart, day written by the invocation) inside the partitions.

    With ``instance``, only the days Dagster does not show as materialized yet: Dagster's
    Postgres storage opens a connection per event (~20 ms), so re-marking the hundreds of
    old days a round of late changes touches would cost a tick more than it does itself.
    The run that last wrote a day stays in the mart's ``run_id`` column."""
    valid = set(daily_partitions.get_partition_keys())
    for key in keys:
        known = instance.get_materialized_partitions(key) if instance is not None else set()
        for day in days_written(conn, key, invocation_id):
            partition = day.isoformat()
            if partition in valid and partition not in known:
                yield AssetMaterialization(
                    asset_key=key,
                    partition=partition,
                    metadata={"dbt_invocation_id": invocation_id},
                )
