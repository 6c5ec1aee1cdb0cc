"""The reaper: recompute runs whose worker died are marked failed (see runs.py)."""

# No `from __future__ import annotations`: Dagster reads the sensor's resource annotation.

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from orchestration.flags import default_status
from orchestration.resources import TallyDatabase


@sensor(
    name="recompute_runs_reaper",
    minimum_interval_seconds=60,
    default_status=default_status("snapshots", DefaultSensorStatus),
    description="Marks recompute runs whose worker died (pending/running, lock free) as failed.",
)
def recompute_runs_reaper(context: SensorEvaluationContext, tally_db: TallyDatabase):
    from orchestration.snapshots.runs import reap_stale_runs

    with tally_db.connect() as conn:
        reaped = reap_stale_runs(conn, actor="sensor:recompute_runs_reaper")
    return SkipReason(f"marked failed: {reaped}" if reaped else "no dead recompute runs")
