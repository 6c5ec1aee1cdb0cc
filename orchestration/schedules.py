"""Schedules of every domain. Each is switched off by its feature flag (orchestration/flags.py)."""

from __future__ import annotations

from dagster import ScheduleDefinition

from orchestration.commerce.schedules import commerce_schedules
from orchestration.flags import flag_enabled, status
from orchestration.health_schedule import health_schedule
from orchestration.jobs import tick
from orchestration.platform.schedules import platform_schedules
from orchestration.snapshots.schedules import SNAPSHOT_SCHEDULES

__all__ = ["SCHEDULES", "flag_enabled", "status"]

tick_schedule = ScheduleDefinition(
    name="tick_every_15_minutes",
    job=tick,
    cron_schedule="*/15 * * * *",
    execution_timezone="UTC",
    default_status=status("tick"),
    description="Sliding-window refresh of every incremental mart (TALLY_TICK_ENABLED).",
)

SCHEDULES = [
    tick_schedule,
    *commerce_schedules(),
    *platform_schedules(),
    *SNAPSHOT_SCHEDULES,
    health_schedule(),
]
