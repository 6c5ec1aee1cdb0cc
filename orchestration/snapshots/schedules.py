"""One schedule per snapshot window (seeds/aggregate_windows.csv refresh_interval_minutes)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dagster import RunRequest, schedule

from orchestration.flags import default_status
from orchestration.snapshots.catalog import WindowDefinition, seed_windows
from orchestration.snapshots.jobs import recompute_snapshots, run_config


def cron_for_minutes(minutes: int) -> str:
    """A cron expression firing every ``minutes`` (rounded to what cron can express)."""
    if minutes <= 0:
        raise ValueError(f"refresh_interval_minutes must be positive, got {minutes}")
    if minutes < 60:
        step = max(d for d in range(1, minutes + 1) if 60 % d == 0)
        return "* * * * *" if step == 1 else f"*/{step} * * * *"
    hours = minutes // 60
    if hours < 24:
        step = max(d for d in range(1, hours + 1) if 24 % d == 0)
        return "0 * * * *" if step == 1 else f"0 */{step} * * *"
    return "0 0 * * *"


def refresh_range(window: str, today: date) -> tuple[date, date]:
    """What a scheduled refresh recomputes: the buckets holding yesterday and today."""
    return today - timedelta(days=1), today


def _window_schedule(window: WindowDefinition):
    name = f"recompute_snapshots_{window.window_name}"

    @schedule(
        name=name,
        job=recompute_snapshots,
        cron_schedule=cron_for_minutes(window.refresh_interval_minutes),
        execution_timezone="UTC",
        default_status=default_status("snapshots"),
        description=(
            f"Recompute the '{window.window_name}' snapshots of yesterday and today every "
            f"{window.refresh_interval_minutes} minutes (TALLY_SNAPSHOTS_ENABLED)."
        ),
    )
    def _refresh(context):
        when: datetime = context.scheduled_execution_time or datetime.utcnow()
        first, last = refresh_range(window.window_name, when.date())
        return RunRequest(
            run_config=run_config(
                first, last, windows=[window.window_name], requested_by=f"schedule:{name}"
            ),
            tags={"tally/window": window.window_name},
        )

    return _refresh


SNAPSHOT_SCHEDULES = [_window_schedule(w) for w in seed_windows()]
