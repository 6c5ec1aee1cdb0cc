"""Commerce schedules (seed 003), each switched off by its feature flag:

* ``TALLY_INTEGRATION_USAGE_ENABLED=false`` stops the daily 04:00 UTC integration-usage run;
* ``TALLY_SENDING_STATS_ENABLED=false`` stops the weekly (Monday 05:00 UTC) sending-stats rebuild.

The flag sets the schedule's default status when the code location loads; a status
toggled by hand in the UI wins over it.
"""

from __future__ import annotations

from dagster import ScheduleDefinition

from orchestration.commerce.jobs import integration_usage, sending_stats
from orchestration.flags import default_status


def integration_usage_schedule() -> ScheduleDefinition:
    return ScheduleDefinition(
        name="commerce_integration_usage_daily",
        job=integration_usage,
        cron_schedule="0 4 * * *",
        execution_timezone="UTC",
        default_status=default_status("integration_usage"),
        description="Integration usage through yesterday, daily at 04:00 UTC (TALLY_INTEGRATION_USAGE_ENABLED).",
    )


def sending_stats_schedule() -> ScheduleDefinition:
    return ScheduleDefinition(
        name="commerce_sending_stats_weekly",
        job=sending_stats,
        cron_schedule="0 5 * * 1",
        execution_timezone="UTC",
        default_status=default_status("sending_stats"),
        description="30-day sending stats rebuild, weekly on Monday 05:00 UTC (TALLY_SENDING_STATS_ENABLED).",
    )


def commerce_schedules() -> list[ScheduleDefinition]:
    """Built when orchestration/commerce/definitions.py is imported (flags read at load time)."""
    return [integration_usage_schedule(), sending_stats_schedule()]
