"""Dagster: the ``recompute_snapshots`` job (schedules and the reaper sensor: siblings).

The job is one op (the run's liveness lock lives on one connection for the whole run),
launchable from the CLI (``tally recompute``), the UI launchpad and GraphQL with config
``{date_from, date_to, reports?, windows?, requested_by}``.
"""

# No `from __future__ import annotations` here: Dagster reads the op's config annotation.
from datetime import date

from dagster import (
    AssetKey,
    AssetMaterialization,
    Config,
    Failure,
    OpExecutionContext,
    job,
    op,
)
from dagster_dbt import DbtCliResource
from pydantic import Field

from orchestration.resources import TallyDatabase
from orchestration.runs import queue_tags

OP_NAME = "recompute_snapshots_op"
SNAPSHOTS = AssetKey(["marts", "metric_snapshots"])
JOB_NAME = "recompute_snapshots"


class RecomputeConfig(Config):
    """A recompute request of metric_snapshots (the same checks as `tally recompute`)."""

    date_from: str = Field(description="first UTC day to recompute, YYYY-MM-DD")
    date_to: str = Field(description="last UTC day to recompute (inclusive), YYYY-MM-DD")
    reports: list[str] = Field(
        default=[],
        description="report slugs (reference.report_definitions, e.g. status-counts); empty = all",
    )
    windows: list[str] = Field(
        default=[],
        description="windows (reference.aggregate_windows: day, week); empty = every window",
    )
    requested_by: str = Field(
        default="launchpad", description="who asks; written to the run row and the audit"
    )


def run_config(
    date_from: date | str,
    date_to: date | str,
    reports: list[str] | None = None,
    windows: list[str] | None = None,
    requested_by: str = "dagster",
) -> dict:
    """The job's run config (what the launchpad shows)."""
    return {
        "ops": {
            OP_NAME: {
                "config": {
                    "date_from": str(date_from),
                    "date_to": str(date_to),
                    "reports": list(reports or []),
                    "windows": list(windows or []),
                    "requested_by": requested_by,
                }
            }
        }
    }


@op(
    name=OP_NAME,
    description="Validate, create the run row, rebuild the buckets, record the outcome.",
)
def recompute_snapshots_op(
    context: OpExecutionContext,
    config: RecomputeConfig,
    dbt: DbtCliResource,
    tally_db: TallyDatabase,
) -> int:
    from orchestration.errors import TallyError
    from orchestration.partition_status import dbt_invocation_id, mark_days
    from orchestration.snapshots.runs import execute_recompute

    try:
        outcome = execute_recompute(
            config.date_from,
            config.date_to,
            config.reports,
            config.windows,
            config.requested_by,
            dagster_run_id=context.run_id,
            log=context.log.info,
            url=tally_db.resolved_url(),
            dbt=dbt,
        )
    except TallyError as exc:  # validation: no run row was written
        raise Failure(description=str(exc), allow_retries=False) from None
    if outcome.status != "completed":
        raise Failure(
            description=f"recompute run {outcome.run_id} failed: {outcome.error}",
            metadata={"recompute_run_id": outcome.run_id},
        )
    # the materialization dagster-dbt made of the dbt run, with the recompute's figures
    recompute = {
        "recompute_run_id": outcome.run_id,
        "rows_deleted": int(outcome.summary.get("rows_deleted", 0)),
        "rows_inserted": int(outcome.summary.get("rows_inserted", 0)),
        "rows_pruned": int(outcome.summary.get("rows_pruned", 0)),
    }
    for event in outcome.events:
        if isinstance(event, AssetMaterialization) and event.asset_key == SNAPSHOTS:
            context.log_event(
                AssetMaterialization(
                    asset_key=event.asset_key,
                    description=f"recompute run {outcome.run_id}",
                    metadata={**event.metadata, **recompute},
                )
            )
            # and every day it rewrote, as a tick or rebuild does (partition_status)
            mark_days(context, tally_db, dbt_invocation_id(event), [SNAPSHOTS])
    return outcome.run_id


@job(
    name=JOB_NAME,
    description="Recompute metric_snapshots for a UTC date range (seed 001).",
    tags=queue_tags(JOB_NAME),
)
def recompute_snapshots() -> None:
    recompute_snapshots_op()
