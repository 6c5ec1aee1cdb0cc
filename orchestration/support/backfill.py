"""Support backfill of one account (seed 002's BackfillService): the checks, the dry-run
diff and the audit entry, shared by every way a backfill is launched.

``tally backfill --domain support --account N``, a Launchpad or GraphQL run of the
``support_rollup`` job with a partition range and ``backfill_account_id``: all go through
the ``incremental_marts`` op, which calls :func:`prepare` before dbt starts (a bad account
fails the run with the one-line message) and :func:`audit` after it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import psycopg

from orchestration.errors import TallyError

# The rows the mart would hold for the accounts' local days start..end, from the same
# intermediate view the mart aggregates, compared key by key with the stored rows.
_DIFF_SQL = """
    with acc as (
        select
            a.account_id,
            cast(%(start)s as date)::timestamp at time zone a.timezone as lo,
            (cast(%(end)s as date) + 1)::timestamp at time zone a.timezone as hi
        from staging.stg_support__accounts as a
        where a.timezone is not null
            and (cast(%(account)s as bigint) is null or a.account_id = %(account)s)
    ),

    ev as (
        -- one (account_id, created_at) index range scan per account and raw table
        -- (reporting events; messages and conversations, issue 18)
        select e.*
        from acc
        cross join lateral (
            select *
            from intermediate.int_support__events_dimensioned as d
            where d.account_id = acc.account_id
                and d.created_at >= acc.lo
                and d.created_at < acc.hi
            union all
            select *
            from intermediate.int_support__messages_dimensioned as d
            where d.account_id = acc.account_id
                and d.created_at >= acc.lo
                and d.created_at < acc.hi
            union all
            select *
            from intermediate.int_support__conversations_dimensioned as d
            where d.account_id = acc.account_id
                and d.created_at >= acc.lo
                and d.created_at < acc.hi
            offset 0
        ) as e
    ),

    fresh as (
        select
            ev.account_id, ev.day_bucket, ev.dimension_type, ev.dimension_id, ev.metric,
            case when min(ev.count_kind) = 'distinct_conversations'
                then count(distinct ev.conversation_id) else count(*) end as count,
            case when min(ev.count_kind) = 'distinct_conversations'
                then 0 else coalesce(sum(ev.value), 0) end as sum_value,
            case when min(ev.count_kind) = 'distinct_conversations'
                then 0 else coalesce(sum(ev.value_in_business_hours), 0) end as sum_bh
        from ev
        group by 1, 2, 3, 4, 5
    ),

    stored as (
        select m.account_id, m.day_bucket, m.dimension_type, m.dimension_id, m.metric,
            m.count, m.sum_value, m.sum_value_business_hours as sum_bh
        from marts.agg_support_rollup_daily as m
        inner join acc on m.account_id = acc.account_id
        where m.day_bucket between %(start)s and %(end)s
    ),

    compared as (
        select
            fresh.account_id is null as is_deleted,
            stored.account_id is null as is_inserted,
            fresh.count is distinct from stored.count
                or abs(fresh.sum_value - stored.sum_value) > 1e-9 * greatest(1, abs(fresh.sum_value))
                or abs(fresh.sum_bh - stored.sum_bh) > 1e-9 * greatest(1, abs(fresh.sum_bh))
                as is_changed
        from fresh
        full outer join stored
            on fresh.account_id = stored.account_id
            and fresh.day_bucket = stored.day_bucket
            and fresh.dimension_type = stored.dimension_type
            and fresh.dimension_id = stored.dimension_id
            and fresh.metric = stored.metric
    )

    select
        count(*) filter (where is_inserted) as inserted,
        count(*) filter (where is_deleted) as deleted,
        count(*) filter (where not is_inserted and not is_deleted and is_changed) as changed,
        count(*) filter (where not is_inserted and not is_deleted and not is_changed) as unchanged
    from compared
"""


@dataclass(frozen=True)
class BackfillDiff:
    inserted: int
    deleted: int
    changed: int
    unchanged: int

    def describe(self) -> str:
        return (
            f"{self.inserted:,} inserted, {self.deleted:,} deleted, {self.changed:,} changed, "
            f"{self.unchanged:,} unchanged"
        )


def check_account(conn: psycopg.Connection, account_id: int) -> str:
    """The account's valid timezone, or a one-line TallyError saying what is wrong."""
    row = conn.execute(
        "select a.reporting_timezone, tzn.name from raw.accounts as a"
        " left join pg_catalog.pg_timezone_names as tzn on tzn.name = a.reporting_timezone"
        " where a.id = %s",
        (account_id,),
    ).fetchone()
    if row is None:
        raise TallyError(f"account {account_id} does not exist; check the id in raw.accounts")
    if row[0] is None:
        raise TallyError(
            f"account {account_id} has no reporting_timezone, so it is not rolled up; "
            "set raw.accounts.reporting_timezone first"
        )
    if row[1] is None:
        raise TallyError(
            f"account {account_id} has an invalid reporting_timezone {row[0]!r}; "
            "fix it (IANA name such as 'America/New_York') before backfilling"
        )
    return row[1]


def backfill_diff(conn: psycopg.Connection, account_id: int | None, start, end) -> BackfillDiff:
    """What a backfill of start..end (one account or every account) would change."""
    built = conn.execute(
        "select to_regclass('marts.agg_support_rollup_daily') is not null"
        " and to_regclass('intermediate.int_support__events_dimensioned') is not null"
        " and to_regclass('intermediate.int_support__messages_dimensioned') is not null"
        " and to_regclass('intermediate.int_support__conversations_dimensioned') is not null"
    ).fetchone()
    if not built or not built[0]:
        raise TallyError("the support rollup is not built yet; run `tally run` first")
    row = conn.execute(_DIFF_SQL, {"account": account_id, "start": start, "end": end}).fetchone()
    return BackfillDiff(*(int(v or 0) for v in row))


@dataclass(frozen=True)
class Backfill:
    """A validated backfill of one account's local days start..end, with what it changes."""

    account_id: int
    start: str
    end: str
    diff: BackfillDiff

    def audit(self, conn: psycopg.Connection, actor: str, dagster_run_id: str) -> None:
        conn.execute(
            "insert into ops.audit_entries (actor, action, resource_type, resource_id, metadata)"
            " values (%s, 'support.backfill', 'account', %s, %s)",
            (
                actor,
                str(self.account_id),
                json.dumps(
                    {
                        "start": self.start,
                        "end": self.end,
                        "dagster_run_id": dagster_run_id,
                        "inserted": self.diff.inserted,
                        "deleted": self.diff.deleted,
                        "changed": self.diff.changed,
                        "unchanged": self.diff.unchanged,
                    }
                ),
            ),
        )


def prepare(conn: psycopg.Connection, account_id: int, start: str, end: str) -> Backfill:
    """Check the account and compute the diff; a one-line TallyError if it cannot run."""
    check_account(conn, account_id)
    return Backfill(account_id, start, end, backfill_diff(conn, account_id, start, end))
