"""Issue 16 F4 for the support and platform domains: every raw column their marts rely
on has a declared rule (models/staging/{support,platform}/_*__sources.yml). A row with a
NULL where the rule says not null is left out of the marts and counted by a failing
check naming table, column and count; it never breaks a run, incremental or full.
(The order domain: tests/test_faults_data.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from conftest import execute, query

from orchestration import datagen, runtime

pytestmark = pytest.mark.slow

MARTS = ["agg_support_rollup_daily", "path:models/marts/platform"]
RECONCILE = [
    "assert_support_rollup_reconciles",
    "assert_platform_hourly_matches_raw",
    "assert_platform_user_activity_matches_raw",
]

# (table, {column: NULL}) - one new row each, copied from a recent real row
NULL_ROWS = {
    "reporting_events": [
        "account_id", "name", "created_at",  # not null
        "value", "user_id", "inbox_id", "conversation_id",  # documented meaning
    ],
    "executions": ["workspace_id", "started_at", "status", "duration_ms", "credits_used"],
    "user_activity": ["workspace_id", "user_id", "occurred_at", "activity_type"],
    # issue 18
    "messages": [
        "account_id", "message_type", "created_at",  # not null
        "conversation_id", "inbox_id", "sender_type",  # documented meaning
    ],
    "conversations": [
        "account_id", "created_at",  # not null
        "assignee_id", "team_id", "inbox_id",  # documented meaning
    ],
}  # fmt: skip
TIME = {
    "reporting_events": "created_at",
    "executions": "started_at",
    "user_activity": "occurred_at",
    "messages": "created_at",
    "conversations": "created_at",
}
EXPECTED = {
    ("raw.reporting_events", "account_id"),
    ("raw.reporting_events", "name"),
    ("raw.reporting_events", "created_at"),
    ("raw.executions", "workspace_id"),
    ("raw.executions", "started_at"),
    ("raw.user_activity", "workspace_id"),
    ("raw.user_activity", "user_id"),
    ("raw.user_activity", "occurred_at"),
    ("raw.messages", "account_id"),
    ("raw.messages", "message_type"),
    ("raw.messages", "created_at"),
    ("raw.conversations", "account_id"),
    ("raw.conversations", "created_at"),
}


def _dbt(*args: str, check: bool = True):
    return runtime.run_dbt(list(args), check=check, capture=True, quiet=True)


@pytest.fixture(scope="module")
def built(tally_db: str) -> str:
    now = datetime.now(UTC) - timedelta(hours=1)
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.05, seed=5, domains=["support", "platform"], now=now)
    _dbt("seed")
    _dbt("run", "--select", *[f"+{m}" for m in MARTS])
    return tally_db


def _copy_with_null(url: str, table: str, column: str) -> None:
    cols = [
        c
        for (c,) in query(
            url,
            "select column_name from information_schema.columns where table_schema = 'raw'"
            " and table_name = %s and column_name not in ('id', 'updated_at') order by ordinal_position",
            (table,),
        )
    ]
    values = ", ".join("null" if c == column else c for c in cols)
    execute(
        url,
        f"insert into raw.{table} ({', '.join(cols)}, updated_at)"
        f" select {values}, now() from raw.{table}"
        f" where {TIME[table]} < now() - interval '2 hours' order by {TIME[table]} desc limit 1",
    )


def test_nulls_are_left_out_and_reported_and_never_break_a_run(built: str) -> None:
    url = built
    for table, columns in NULL_ROWS.items():
        for column in columns:
            _copy_with_null(url, table, column)
    # a tick of the marts lands, and they stay equal to raw
    _dbt("run", "--select", *MARTS)
    _dbt("test", "--select", *RECONCILE)
    # so does a full rebuild (a NULL created_at used to give a NULL day_bucket)
    _dbt("run", "--full-refresh", "--select", *MARTS)
    _dbt("test", "--select", *RECONCILE)
    result = _dbt(
        "test", "--select", "assert_support_raw_rules", "assert_platform_raw_rules", check=False
    )
    assert result.returncode != 0
    found = {}
    for check in ("assert_support_raw_rules", "assert_platform_raw_rules"):
        for table, column, n, problem in query(
            url, f"select table_name, column_name, null_rows, problem from ops.{check}"
        ):
            found[(table, column)] = n
            assert problem.startswith(f"{table}.{column} is NULL in {n} rows"), problem
    assert set(found) == EXPECTED, found  # the documented NULLs are no finding
    assert all(n >= 1 for n in found.values()), found
