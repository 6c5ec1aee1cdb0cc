"""The tick's schedule (each domain's schedules live in its own package). Switched off by
its feature flag (orchestration/flags.py)."""

from __future__ import annotations

from dagster import RunRequest, ScheduleEvaluationContext, schedule

from orchestration.flags import default_status
from orchestration.jobs import raw_contract_check, tick

# The reconcile checks of a tick compare the last TICK_RECONCILE_DAYS local days with raw
# (the sliding window and the day before it); the first tick after 03:00 UTC compares
# the project's `reconcile_days` (60). At scale 100 the 60-day comparison is ~30 s of SQL -
# more than the tick itself - so it runs once a day, not every 15 minutes.
TICK_RECONCILE_DAYS = 3
FULL_RECONCILE_HOUR_UTC = 3


def tick_run_config(full_reconcile: bool) -> dict:
    """Run config of a tick run: a short reconcile window unless `full_reconcile`."""
    if full_reconcile:
        return {}
    return {"ops": {"incremental_marts": {"config": {"reconcile_days": TICK_RECONCILE_DAYS}}}}


@schedule(
    name="tick_every_15_minutes",
    job=tick,
    cron_schedule="*/15 * * * *",
    execution_timezone="UTC",
    default_status=default_status("tick"),
    description=(
        "Sliding-window refresh of every incremental mart (TALLY_TICK_ENABLED); reconcile "
        f"checks over {TICK_RECONCILE_DAYS} days, over `reconcile_days` at "
        f"{FULL_RECONCILE_HOUR_UTC:02d}:00 UTC."
    ),
)
def tick_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    at = context.scheduled_execution_time
    full = at is not None and at.hour == FULL_RECONCILE_HOUR_UTC and at.minute < 15
    return RunRequest(
        run_config=tick_run_config(full), tags={"tally/full_reconcile": str(full).lower()}
    )


@schedule(
    name="raw_contract_check_hourly",
    job=raw_contract_check,
    cron_schedule="20 * * * *",
    execution_timezone="UTC",
    default_status=default_status("raw_contract_check"),
    description="The raw tables' raw_indexes_present checks (TALLY_RAW_CONTRACT_CHECK_ENABLED).",
)
def raw_contract_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    return RunRequest()
