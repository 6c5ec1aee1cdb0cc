"""The per-account read-path switch (Chatwoot's ``reporting_events_rollup`` flag).

``ops.support_read_path`` is a Tally-owned operations table (not a seed: an operator
flips it while a backfill is verified, without a dbt run). An account with
``read_from = 'raw'`` is answered from ``raw.reporting_events`` by every support report
even when the rollup is eligible; the rollup keeps being written (tick, backfill,
sensor) either way. No row, or ``read_from = 'rollup'``, means the usual choice.
"""

from __future__ import annotations

import json

import psycopg

from orchestration.db import READER_ROLE
from orchestration.errors import TallyError

READ_FROM = ("raw", "rollup")

DDL = """
create table if not exists ops.support_read_path (
    account_id bigint primary key,
    read_from text not null check (read_from in ('raw', 'rollup')),
    reason text,
    set_at timestamptz not null default now()
)
"""


def ensure_table(conn: psycopg.Connection) -> None:
    conn.execute("create schema if not exists ops")
    conn.execute(DDL)
    role = conn.execute("select 1 from pg_roles where rolname = %s", (READER_ROLE,)).fetchone()
    if role is not None:  # else grant_reader_extra() grants it when the role is created
        conn.execute(f"grant usage on schema ops to {READER_ROLE}")
        conn.execute(
            f"grant select (account_id, read_from, reason) on ops.support_read_path to {READER_ROLE}"
        )


def set_read_path(
    conn: psycopg.Connection, account_id: int, read_from: str, reason: str | None = None
) -> None:
    """Switch one account's support reports to raw (or back to the rollup), audited."""
    if read_from not in READ_FROM:
        raise TallyError(f"unknown read path {read_from!r}; use 'raw' or 'rollup'")
    exists = conn.execute("select 1 from raw.accounts where id = %s", (account_id,)).fetchone()
    if exists is None:
        raise TallyError(f"account {account_id} does not exist; check the id in raw.accounts")
    ensure_table(conn)
    conn.execute(
        "insert into ops.support_read_path (account_id, read_from, reason, set_at)"
        " values (%s, %s, %s, now()) on conflict (account_id) do update"
        " set read_from = excluded.read_from, reason = excluded.reason, set_at = now()",
        (account_id, read_from, reason),
    )
    if conn.execute("select to_regclass('ops.audit_entries') is not null").fetchone()[0]:
        conn.execute(
            "insert into ops.audit_entries (actor, action, resource_type, resource_id, metadata)"
            " values ('cli', 'support_read_path', 'account', %s, %s)",
            (str(account_id), json.dumps({"read_from": read_from, "reason": reason})),
        )


def read_paths(conn: psycopg.Connection) -> list[tuple[int, str, str | None]]:
    if not conn.execute("select to_regclass('ops.support_read_path') is not null").fetchone()[0]:
        return []
    return conn.execute(
        "select account_id, read_from, reason from ops.support_read_path order by 1"
    ).fetchall()
