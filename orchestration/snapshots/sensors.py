"""The reaper: recompute runs whose worker died are marked failed (see runs.py)."""

from __future__ import annotations

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from orchestration.flags import flag_enabled


@sensor(
    name="recompute_runs_reaper",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING
    if flag_enabled("snapshots")
    else DefaultSensorStatus.STOPPED,
    description="Marks recompute runs whose worker died (pending/running, lock free) as failed.",
)
def recompute_runs_reaper(context: SensorEvaluationContext):
    from orchestration.db import connect, database
    from orchestration.snapshots.runs import reap_stale_runs

    with connect(database(start=False).url, autocommit=True) as conn:
        reaped = reap_stale_runs(conn, actor="sensor:recompute_runs_reaper")
    return SkipReason(f"marked failed: {reaped}" if reaped else "no dead recompute runs")
