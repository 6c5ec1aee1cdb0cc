"""Timezone-change sensor (seed 002): an account whose ``reporting_timezone`` was set
or changed gets its whole history rebuilt in the new timezone.

Rollup rows record nothing about the timezone they were built in, so the sensor
compares each account's current (valid) timezone with the one stored in
``ops.aggregation_progress.tenant_version`` for the mart - written by the mart's
post-hook whenever it rebuilds an account wholly (first build, tick, rebuild).
The run key is (account, new timezone, last run that recorded the old one): a
change seen on many evaluations, or several changes before the rebuild starts,
launch one run; a later change back to an earlier zone launches a new one.
"""

# No `from __future__ import annotations`: Dagster reads the sensor's resource annotation.

from dataclasses import dataclass

import psycopg
from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from orchestration.flags import default_status
from orchestration.resources import TallyDatabase
from orchestration.support.jobs import rebuild_config, support_rollup

MART = "agg_support_rollup_daily"

_PENDING_SQL = """
    select a.id, a.reporting_timezone, pr.tenant_version, pr.last_run_id
    from raw.accounts as a
    inner join pg_catalog.pg_timezone_names as tzn on tzn.name = a.reporting_timezone
    left join ops.aggregation_progress as pr
        on pr.mart = %(mart)s and pr.tenant_id = a.id
    where pr.tenant_version is distinct from a.reporting_timezone
        and exists (select 1 from ops.aggregation_progress as p2 where p2.mart = %(mart)s)
    order by a.id
"""


@dataclass(frozen=True)
class TimezoneChange:
    account_id: int
    timezone: str
    built_timezone: str | None  # None: never rolled up (timezone newly set)
    last_run_id: str | None

    @property
    def run_key(self) -> str:
        return f"support-tz:{self.account_id}:{self.timezone}:{self.last_run_id or 'new'}"


def pending_timezone_changes(conn: psycopg.Connection) -> list[TimezoneChange]:
    """Accounts whose valid timezone differs from the one their rollup was built in.

    Empty until the mart has been built once (its first build covers every account).
    Accounts whose timezone is NULL or invalid are left to the tick and the checks.
    """
    ready = conn.execute(
        "select to_regclass('raw.accounts') is not null"
        " and to_regclass('ops.aggregation_progress') is not null"
    ).fetchone()
    if not ready or not ready[0]:
        return []
    rows = conn.execute(_PENDING_SQL, {"mart": MART}).fetchall()
    return [TimezoneChange(int(r[0]), r[1], r[2], r[3]) for r in rows]


@sensor(
    job=support_rollup,
    minimum_interval_seconds=60,
    default_status=default_status("support_timezone_sensor", DefaultSensorStatus),
    description=(
        "Rebuilds an account's support rollup when its reporting_timezone is set or "
        "changed (TALLY_SUPPORT_TIMEZONE_SENSOR_ENABLED)."
    ),
)
def support_timezone_sensor(context: SensorEvaluationContext, tally_db: TallyDatabase):
    with tally_db.connect(autocommit=False) as conn:
        changes = pending_timezone_changes(conn)
    if not changes:
        return SkipReason("no account timezone changed since its rollup was built")
    return [
        RunRequest(
            run_key=change.run_key,
            run_config=rebuild_config(change.account_id),
            tags={
                "tally/domain": "support",
                "tally/account_id": str(change.account_id),
                "tally/reason": f"timezone {change.built_timezone or 'unset'} -> {change.timezone}",
            },
        )
        for change in changes
    ]
