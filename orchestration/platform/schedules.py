"""Platform schedules (seed 004), each switched by its feature flag.

| job | cron (UTC) | flag |
|---|---|---|
| platform_hourly_rollup | every hour at :05 | TALLY_HOURLY_ROLLUP_ENABLED |
| platform_daily_rollup | daily 01:00 | TALLY_DAILY_ROLLUP_ENABLED |
| platform_weekly_rollup | Monday 02:00 | TALLY_WEEKLY_ROLLUP_ENABLED |
| platform_view_refresh | every 15 minutes | TALLY_VIEW_REFRESH_ENABLED |
| platform_cleanup | daily 03:00 | TALLY_CLEANUP_ENABLED |

A flag set to false makes the schedule's default status STOPPED when the code location
loads; set it back (or unset it) and reload to turn the schedule on again.
"""

from __future__ import annotations

from dagster import ScheduleDefinition

# (schedule name, job name, cron, flag)
PLATFORM_SCHEDULE_TABLE: list[tuple[str, str, str, str]] = [
    ("platform_hourly_rollup_at_05", "platform_hourly_rollup", "5 * * * *", "hourly_rollup"),
    ("platform_daily_rollup_at_0100", "platform_daily_rollup", "0 1 * * *", "daily_rollup"),
    ("platform_weekly_rollup_monday_0200", "platform_weekly_rollup", "0 2 * * 1", "weekly_rollup"),
    (
        "platform_view_refresh_every_15_minutes",
        "platform_view_refresh",
        "*/15 * * * *",
        "view_refresh",
    ),
    ("platform_cleanup_at_0300", "platform_cleanup", "0 3 * * *", "cleanup"),
]


def platform_schedules() -> list[ScheduleDefinition]:
    """Build the schedules, reading the feature flags now (called when definitions load)."""
    from orchestration.flags import default_status
    from orchestration.platform.jobs import PLATFORM_JOBS

    jobs = {j.name: j for j in PLATFORM_JOBS}
    return [
        ScheduleDefinition(
            name=name,
            job=jobs[job_name],
            cron_schedule=cron,
            execution_timezone="UTC",
            default_status=default_status(flag),
            description=f"{job_name} ({cron} UTC); off when TALLY_{flag.upper()}_ENABLED=false.",
        )
        for name, job_name, cron, flag in PLATFORM_SCHEDULE_TABLE
    ]
