"""Platform jobs (seed 004): rollups, view refresh and retention cleanup.

Each job carries the seed's hard time limit as the ``dagster/max_runtime`` run tag
(seconds); Dagster's run monitoring (enabled in the instance's dagster.yaml) terminates
a run that exceeds it.
"""

# No `from __future__ import annotations`: Dagster reads the op's annotations at runtime.
from dagster import (
    AssetKey,
    AssetSelection,
    Config,
    Failure,
    OpExecutionContext,
    define_asset_job,
    job,
    op,
)
from pydantic import Field

from orchestration.errors import TallyError
from orchestration.platform import cleanup
from orchestration.resources import TallyDatabase
from orchestration.runs import queue_tags

MAX_RUNTIME_TAG = "dagster/max_runtime"

# job name -> hard time limit in seconds (seed 004, "Task Schedule" / "Resource Limits")
TIME_LIMITS: dict[str, int] = {
    "platform_hourly_rollup": 3600,
    "platform_daily_rollup": 2 * 3600,
    "platform_weekly_rollup": 4 * 3600,
    "platform_view_refresh": 15 * 60,
    "platform_cleanup": 2 * 3600,
}

HOURLY_MARTS = [
    "agg_execution_metrics_hourly",
    "agg_user_activity_hourly",
    "agg_credit_consumption_hourly",
]
VIEWS = ["mv_hourly_execution_stats", "mv_daily_user_metrics", "mv_workspace_summary"]


def _keys(names: list[str]) -> AssetSelection:
    return AssetSelection.assets(*(AssetKey(["marts", n]) for n in names))


def _tags(name: str) -> dict[str, str]:
    return {MAX_RUNTIME_TAG: str(TIME_LIMITS[name]), **queue_tags(name)}


# Unpartitioned run of the (partitioned) sliding-window marts = a tick of these three.
platform_hourly_rollup = define_asset_job(
    "platform_hourly_rollup",
    selection=_keys(HOURLY_MARTS),
    tags=_tags("platform_hourly_rollup"),
    description="Hourly execution, user-activity and credit rollups (sliding-window tick).",
)

platform_daily_rollup = define_asset_job(
    "platform_daily_rollup",
    selection=_keys(["agg_execution_metrics_daily"]),
    tags=_tags("platform_daily_rollup"),
    description="Daily execution rollup from the hourly mart (only the days it changed).",
)

platform_weekly_rollup = define_asset_job(
    "platform_weekly_rollup",
    selection=_keys(["agg_execution_metrics_weekly"]),
    tags=_tags("platform_weekly_rollup"),
    description="Weekly (ISO) execution rollup from the hourly mart (only the weeks it changed).",
)

platform_view_refresh = define_asset_job(
    "platform_view_refresh",
    selection=_keys(VIEWS),
    tags=_tags("platform_view_refresh"),
    description="REFRESH MATERIALIZED VIEW CONCURRENTLY of the three platform views.",
)


class CleanupConfig(Config):
    """Launchpad config of a retention cleanup run (the same checks as `tally cleanup`)."""

    raw_retention_days: int = Field(
        default=cleanup.DEFAULT_RAW_RETENTION_DAYS,
        description="delete raw platform rows older than this many days (hourly aggregates: "
        "twice as long; at least the sliding window)",
    )
    dry_run: bool = Field(default=False, description="count what would be deleted; delete nothing")
    batch_size: int = Field(
        default=cleanup.DEFAULT_BATCH_SIZE, description="rows per delete statement"
    )


@op(description="Delete raw platform rows and hourly aggregates past retention, in batches.")
def cleanup_old_data(
    context: OpExecutionContext, config: CleanupConfig, tally_db: TallyDatabase
) -> int:
    try:
        report = cleanup.run_cleanup(
            tally_db.resolved_url(),
            raw_retention_days=config.raw_retention_days,
            dry_run=config.dry_run,
            batch_size=config.batch_size,
            log=context.log.info,
        )
    except TallyError as exc:  # the CLI's one line, as the run's failure reason
        raise Failure(description=str(exc), allow_retries=False) from None
    for line in report.lines():
        context.log.info(line)
    return report.total


@job(
    name="platform_cleanup",
    tags=_tags("platform_cleanup"),
    description="Retention cleanup: raw 90 days, hourly aggregates 2x, daily forever.",
)
def platform_cleanup() -> None:
    cleanup_old_data()


PLATFORM_JOBS = [
    platform_hourly_rollup,
    platform_daily_rollup,
    platform_weekly_rollup,
    platform_view_refresh,
    platform_cleanup,
]
