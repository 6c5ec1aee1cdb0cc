"""`tally backfill --domain support --account N --start D --end D [--dry-run]`.

Seed 002's BackfillService as a Dagster run: the support mart alone
(job ``support_rollup``) for the partition range start..end, with config
``backfill_account_id`` so the sliding window replaces only that account's local
days (``backfill_tenant_var`` in macros/sliding_window.sql). ``--dry-run`` computes
the same days from raw and prints how many rollup rows would be inserted, deleted,
changed and left unchanged - writing nothing. Called by ``core.cmd_backfill`` when
``--account`` or ``--dry-run`` is given.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import psycopg

from orchestration import runtime
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
        -- one (account_id, created_at) index range scan per account
        select e.*
        from acc
        cross join lateral (
            select *
            from intermediate.int_support__events_dimensioned as d
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
    ).fetchone()
    if not built or not built[0]:
        raise TallyError("the support rollup is not built yet; run `tally run` first")
    row = conn.execute(_DIFF_SQL, {"account": account_id, "start": start, "end": end}).fetchone()
    return BackfillDiff(*(int(v or 0) for v in row))


def run(args: argparse.Namespace) -> int:
    domain = args.domain
    if args.account is not None and domain not in (None, "support"):
        raise TallyError(
            f"--account is a support option; for {domain} use `tally rebuild` or drop --account"
        )
    if domain is None and args.account is None:
        raise TallyError("--dry-run is available for the support rollup: add --domain support")
    if domain not in (None, "support"):
        raise TallyError(f"--dry-run is available for --domain support only, not {domain}")
    db = runtime.activate()
    days = (args.end - args.start).days + 1
    scope = f"account {args.account}" if args.account is not None else "every account"
    with db.connect() as conn:
        if args.account is not None:
            check_account(conn, args.account)
        diff = backfill_diff(conn, args.account, args.start, args.end)
    if args.dry_run:
        print(
            f"dry run: backfilling {days} local days {args.start}..{args.end} of {scope} "
            f"would change agg_support_rollup_daily rows: {diff.describe()} (nothing written)"
        )
        return 0
    from orchestration.support.jobs import SUPPORT_JOB, SUPPORT_MART, backfill_config

    started = time.perf_counter()
    result = runtime.execute_job(
        SUPPORT_JOB,
        run_config=backfill_config(args.account),
        partition_range=(args.start.isoformat(), args.end.isoformat()),
        tags={"tally/domain": "support", "tally/account_id": str(args.account)},
    )
    if not result.success:
        written = any(
            ev.asset_key == SUPPORT_MART for ev in result.get_asset_materialization_events()
        )
        if not written:
            raise TallyError(runtime.failure_summary(result))
        print(
            "warning: the rows were rebuilt but a check on agg_support_rollup_daily failed "
            f"({runtime.failure_summary(result)}); see the Dagster UI"
        )
    with db.connect() as conn:
        conn.execute(
            "insert into ops.audit_entries (actor, action, resource_type, resource_id, metadata)"
            " values ('cli', 'support.backfill', 'account', %s, %s)",
            (
                str(args.account),
                json.dumps(
                    {
                        "start": args.start.isoformat(),
                        "end": args.end.isoformat(),
                        "dagster_run_id": result.run_id,
                        "inserted": diff.inserted,
                        "deleted": diff.deleted,
                        "changed": diff.changed,
                    }
                ),
            ),
        )
    print(
        f"backfilled {days} local days {args.start}..{args.end} of {scope} in "
        f"{time.perf_counter() - started:.1f} s (Dagster run {result.run_id[:8]}): {diff.describe()}"
    )
    return 0
