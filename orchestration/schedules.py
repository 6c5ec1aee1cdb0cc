"""Schedules. Each can be switched off by its feature flag without touching code."""

from __future__ import annotations

import os

from dagster import DefaultScheduleStatus, ScheduleDefinition

from orchestration.jobs import tick


def flag_enabled(name: str, default: bool = True) -> bool:
    """Feature flag from the environment: TALLY_<NAME>_ENABLED=true|false."""
    raw = os.environ.get(f"TALLY_{name.upper()}_ENABLED")
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def status(flag: str) -> DefaultScheduleStatus:
    return DefaultScheduleStatus.RUNNING if flag_enabled(flag) else DefaultScheduleStatus.STOPPED


tick_schedule = ScheduleDefinition(
    name="tick_every_15_minutes",
    job=tick,
    cron_schedule="*/15 * * * *",
    execution_timezone="UTC",
    default_status=status("tick"),
    description="Sliding-window refresh of every incremental mart (TALLY_TICK_ENABLED).",
)

SCHEDULES = [tick_schedule]

from orchestration.commerce.schedules import commerce_schedules  # noqa: E402

SCHEDULES.extend(commerce_schedules())

from orchestration.health_schedule import health_schedule  # noqa: E402

SCHEDULES.append(health_schedule())

from orchestration.snapshots.schedules import SNAPSHOT_SCHEDULES  # noqa: E402

SCHEDULES.extend(SNAPSHOT_SCHEDULES)

from orchestration.platform.schedules import platform_schedules  # noqa: E402

SCHEDULES.extend(platform_schedules())
