"""Retention cleanup of the platform domain (seed 004).

* raw ``executions`` and ``user_activity`` older than ``raw_retention_days`` (default 90);
* hourly aggregates older than twice that;
* daily and weekly aggregates are kept forever.

Safety rules:

* Deletes run in bounded batches (``batch_size`` ids per statement, one transaction
  each, committed in between), so no lock is held for long.
* A retention shorter than the aggregation window (dbt var ``sliding_window_days``)
  is refused: the sliding window would still need those rows.
* Raw rows whose buckets are not aggregated yet are never deleted: the cutoff stops at
  the first UTC day holding a row (or captured delete) newer than the hourly marts'
  watermark in ``ops.aggregation_progress``; those rows go at a later run.
* Change capture is switched off in every delete transaction
  (``set local tally.capture = 'off'``): a retention delete is not a source change and
  must not make the next tick recompute - and thereby empty - old hourly buckets.
* Before deleting, the cut-off is recorded in ``ops.retention_horizons`` (under the
  models' advisory locks): the hourly marts never recompute buckets before the raw
  horizon, and the daily/weekly rollups never recompute buckets before the hourly one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import yaml

from orchestration.errors import TallyError

DEFAULT_RAW_RETENTION_DAYS = 90
DEFAULT_BATCH_SIZE = 10_000

# raw table -> (timestamp column, hourly marts aggregating it)
RAW_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "executions": ("started_at", ("agg_execution_metrics_hourly", "agg_credit_consumption_hourly")),
    "user_activity": ("occurred_at", ("agg_user_activity_hourly",)),
}
# hourly mart -> rollups built from it (they must have consumed its changes first)
HOURLY_MARTS: dict[str, tuple[str, ...]] = {
    "agg_execution_metrics_hourly": ("agg_execution_metrics_daily", "agg_execution_metrics_weekly"),
    "agg_user_activity_hourly": (),
    "agg_credit_consumption_hourly": (),
}

_PROJECT_FILE = Path(__file__).resolve().parents[2] / "dbt_project.yml"


@dataclass
class CleanupStep:
    relation: str
    cutoff: datetime | None  # rows strictly before this instant go; None = nothing to do
    rows: int
    note: str = ""


@dataclass
class CleanupReport:
    dry_run: bool
    raw_retention_days: int
    hourly_retention_days: int
    steps: list[CleanupStep] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(s.rows for s in self.steps)

    def lines(self) -> list[str]:
        verb = "would delete" if self.dry_run else "deleted"
        head = (
            f"retention cleanup{' (dry run)' if self.dry_run else ''}: raw rows older than "
            f"{self.raw_retention_days} days, hourly aggregates older than "
            f"{self.hourly_retention_days} days; daily and weekly aggregates are kept forever"
        )
        out = [head, f"{'relation':<40} {'cutoff (UTC)':<17} {verb:>13}  note", "-" * 88]
        for s in self.steps:
            cut = s.cutoff.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if s.cutoff else "-"
            out.append(f"{s.relation:<40} {cut:<17} {s.rows:>13,}  {s.note}")
        out.append(f"{'total':<40} {'':<17} {self.total:>13,}")
        return out


def project_var(name: str, default: int) -> int:
    """An integer var of dbt_project.yml (the single source of the window settings)."""
    try:
        data = yaml.safe_load(_PROJECT_FILE.read_text()) or {}
        return int((data.get("vars") or {}).get(name, default))
    except (OSError, ValueError, TypeError, yaml.YAMLError):
        return default


def default_raw_retention_days() -> int:
    raw = os.environ.get("TALLY_RAW_RETENTION_DAYS", "").strip()
    if not raw:
        return DEFAULT_RAW_RETENTION_DAYS
    try:
        return int(raw)
    except ValueError:
        raise TallyError(
            f"TALLY_RAW_RETENTION_DAYS={raw!r} is not a whole number of days; set e.g. 90"
        ) from None


#: the longest retention accepted (100 years; longer would overflow date arithmetic)
MAX_RETENTION_DAYS = 36_500


def validate(raw_retention_days: int, batch_size: int, window_days: int) -> None:
    if batch_size < 1:
        raise TallyError(f"batch size must be at least 1, got {batch_size}")
    if batch_size > 10_000_000:
        raise TallyError(f"batch size {batch_size} is too large; pass at most 10000000")
    if raw_retention_days > MAX_RETENTION_DAYS:
        raise TallyError(
            f"raw retention of {raw_retention_days} days is more than 100 years; "
            f"pass --raw-retention-days {MAX_RETENTION_DAYS} or fewer"
        )
    if raw_retention_days < window_days:
        raise TallyError(
            f"raw retention of {raw_retention_days} days is shorter than the aggregation window "
            f"(sliding_window_days = {window_days}): those rows are still being aggregated; "
            f"pass --raw-retention-days {window_days} or more"
        )


# The lock a platform mart's runs take (tally.mart_lock, macros/sliding_window/mart_lock.sql):
# the key comes from ops.lock_key in SQL, the one definition of the scheme.
MART_LOCK_SQL = "select pg_advisory_xact_lock(ops.lock_key('mart:' || %s))"


def _exists_function(cur: psycopg.Cursor, signature: str) -> bool:
    cur.execute("select to_regprocedure(%s) is not null", (signature,))
    row = cur.fetchone()
    return bool(row and row[0])


def _exists(cur: psycopg.Cursor, relation: str) -> bool:
    cur.execute("select to_regclass(%s) is not null", (relation,))
    row = cur.fetchone()
    return bool(row and row[0])


def run_cleanup(
    url: str,
    *,
    raw_retention_days: int = DEFAULT_RAW_RETENTION_DAYS,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: datetime | None = None,
    log: Callable[[str], None] | None = None,
) -> CleanupReport:
    """Apply (or, with ``dry_run``, count) the retention policy; return what was done."""
    window_days = project_var("sliding_window_days", 2)
    lag_minutes = project_var("watermark_lag_minutes", 10)
    validate(raw_retention_days, batch_size, window_days)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    hourly_days = 2 * raw_retention_days
    report = CleanupReport(dry_run, raw_retention_days, hourly_days)
    raw_cut = _day_floor(now - timedelta(days=raw_retention_days))
    hourly_cut = _day_floor(now - timedelta(days=hourly_days))
    lag = timedelta(minutes=lag_minutes)

    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.cursor()
        if not _exists(cur, "ops.retention_horizons"):
            raise TallyError(
                "the ops tables are missing: nothing has been aggregated yet; run `tally run` first"
            )
        if not _exists_function(cur, "ops.lock_key(text)"):
            raise TallyError(
                "ops.lock_key is missing (a database of an older release): run `tally tick` once first"
            )
        for table, (ts_col, marts) in RAW_TABLES.items():
            step = _raw_step(conn, table, ts_col, marts, raw_cut, lag, dry_run, batch_size)
            report.steps.append(step)
            if log:
                log(
                    f"raw.{table}: {step.rows} rows {'to delete' if dry_run else 'deleted'} {step.note}"
                )
        for mart, rollups in HOURLY_MARTS.items():
            step = _hourly_step(conn, mart, rollups, hourly_cut, dry_run, batch_size)
            report.steps.append(step)
            if log:
                log(
                    f"marts.{mart}: {step.rows} rows {'to delete' if dry_run else 'deleted'} {step.note}"
                )
        if not dry_run:
            _audit(conn, report)
    return report


def _day_floor(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _raw_step(
    conn: psycopg.Connection,
    table: str,
    ts_col: str,
    marts: tuple[str, ...],
    cut: datetime,
    lag: timedelta,
    dry_run: bool,
    batch_size: int,
) -> CleanupStep:
    relation = f"raw.{table}"
    cur = conn.cursor()
    if not _exists(cur, relation):
        return CleanupStep(relation, None, 0, "table missing; skipped")
    missing = [m for m in marts if not _exists(cur, f"marts.{m}")]
    if missing:
        return CleanupStep(
            relation, None, 0, f"{', '.join(missing)} not built yet; nothing deleted"
        )

    # Per workspace, the oldest watermark over the marts aggregating this table (minus
    # the lag the sliding window re-reads). A row is aggregated when it is older.
    watermarks = """
        select p.tenant_id, min(p.watermark) - %(lag)s as wm
        from ops.aggregation_progress as p
        where p.mart = any(%(marts)s)
        group by p.tenant_id
        having count(distinct p.mart) = %(n_marts)s
    """
    params = {"lag": lag, "marts": list(marts), "n_marts": len(marts), "cut": cut, "table": table}
    cur.execute(
        f"""
        with wm as ({watermarks})
        select least(
            (select min(r.{ts_col})
             from raw.{table} as r
             left join wm on wm.tenant_id = r.workspace_id
             where r.{ts_col} < %(cut)s
                 and (wm.wm is null or r.updated_at > wm.wm)
                 and exists (select 1 from raw.workspaces as w where w.id = r.workspace_id)),
            (select min(cast(rc.old_row ->> '{ts_col}' as timestamptz))
             from ops.raw_changes as rc
             left join wm on wm.tenant_id = cast(rc.old_row ->> 'workspace_id' as bigint)
             where rc.table_name = %(table)s
                 and cast(rc.old_row ->> '{ts_col}' as timestamptz) < %(cut)s
                 and (wm.wm is null or rc.captured_at > wm.wm))
        )
        """,
        params,
    )
    pending = cur.fetchone()[0]
    note = ""
    if pending is not None:
        cut = min(cut, _day_floor(pending))
        note = f"stopped at {cut:%Y-%m-%d}: later rows not aggregated yet"

    # Rows of existing workspaces go only when aggregated; rows of unknown workspaces
    # are never aggregated and simply expire.
    eligible = f"""
        with wm as ({watermarks})
        select r.id
        from raw.{table} as r
        left join wm on wm.tenant_id = r.workspace_id
        where r.{ts_col} < %(cut)s
            and (
                r.updated_at <= wm.wm
                or not exists (select 1 from raw.workspaces as w where w.id = r.workspace_id)
            )
    """
    params["cut"] = cut
    if dry_run:
        cur.execute(f"select count(*) from ({eligible}) as e", params)
        return CleanupStep(relation, cut, int(cur.fetchone()[0]), note)

    with conn.transaction():
        for mart in marts:
            cur.execute(MART_LOCK_SQL, (mart,))
        _advance_horizon(cur, relation, cut)
    deleted = _delete_batches(
        conn, f"raw.{table}", "id", f"{eligible} limit %(batch)s", params, batch_size
    )
    return CleanupStep(relation, cut, deleted, note)


def _hourly_step(
    conn: psycopg.Connection,
    mart: str,
    rollups: tuple[str, ...],
    cut: datetime,
    dry_run: bool,
    batch_size: int,
) -> CleanupStep:
    relation = f"marts.{mart}"
    cur = conn.cursor()
    if not _exists(cur, relation):
        return CleanupStep(relation, None, 0, "not built yet; skipped")
    note = ""
    if rollups and _exists(cur, "ops.platform_rollup_queue"):
        # never prune hours a rollup still has to read
        cur.execute(
            """
            select bool_or(q.lo = '-infinity'), min(q.lo) filter (where q.lo <> '-infinity')
            from ops.platform_rollup_queue as q
            where q.consumer = any(%s) and q.lo < %s
            """,
            (list(rollups), cut),
        )
        whole, pending = cur.fetchone()
        if whole:
            return CleanupStep(
                relation, None, 0, f"{', '.join(rollups)} not caught up yet; run them first"
            )
        if pending is not None:
            cut = min(cut, _day_floor(pending))
            note = f"stopped at {cut:%Y-%m-%d}: rollups not caught up yet"
    params = {"cut": cut}
    eligible = f"select ctid from {relation} where bucket_start < %(cut)s"
    if dry_run:
        cur.execute(f"select count(*) from {relation} where bucket_start < %(cut)s", params)
        return CleanupStep(relation, cut, int(cur.fetchone()[0]), note)
    with conn.transaction():
        for model in (mart, *rollups):
            cur.execute(MART_LOCK_SQL, (model,))
        _advance_horizon(cur, relation, cut)
    deleted = _delete_batches(
        conn, relation, "ctid", f"{eligible} limit %(batch)s", params, batch_size
    )
    return CleanupStep(relation, cut, deleted, note)


def _advance_horizon(cur: psycopg.Cursor, relation: str, cut: datetime) -> None:
    cur.execute(
        """
        insert into ops.retention_horizons as h (relation, horizon, updated_at)
        values (%s, %s, now())
        on conflict (relation) do update
            set horizon = greatest(h.horizon, excluded.horizon), updated_at = now()
        """,
        (relation, cut),
    )


def _delete_batches(
    conn: psycopg.Connection,
    relation: str,
    key: str,
    select_sql: str,
    params: dict,
    batch_size: int,
) -> int:
    """Delete in batches of ``batch_size`` keys, one short transaction each."""
    total = 0
    cur = conn.cursor()
    while True:
        with conn.transaction():
            cur.execute("set local tally.capture = 'off'")
            cur.execute(
                f"delete from {relation} where {key} = any(array({select_sql}))",
                {**params, "batch": batch_size},
            )
            n = cur.rowcount
        total += n
        if n < batch_size:
            return total


def _audit(conn: psycopg.Connection, report: CleanupReport) -> None:
    import json

    cur = conn.cursor()
    if not _exists(cur, "ops.audit_entries"):
        return
    cur.execute(
        """
        insert into ops.audit_entries (actor, action, resource_type, resource_id, metadata)
        values ('tally cleanup', 'retention_cleanup', 'platform', null, %s)
        """,
        (
            json.dumps(
                {
                    "raw_retention_days": report.raw_retention_days,
                    "hourly_retention_days": report.hourly_retention_days,
                    "deleted": {s.relation: s.rows for s in report.steps},
                    "cutoffs": {
                        s.relation: s.cutoff.isoformat() if s.cutoff else None for s in report.steps
                    },
                }
            ),
        ),
    )
