"""The health check as a Dagster job, every 5 minutes (seed 004's `health_check` task).

The op runs the same checks as `tally health` (orchestration/health.py), logs the table
and fails the run when something is stale, failing or missing - so an unhealthy system
shows as a failed run in the UI (and in whatever alerting watches failed runs).
Switched off with ``TALLY_HEALTH_CHECK_ENABLED=false``; hard limit 5 minutes.
"""

# No `from __future__ import annotations`: Dagster inspects the op annotations at runtime.

from dagster import (
    Failure,
    MetadataValue,
    OpExecutionContext,
    ScheduleDefinition,
    job,
    op,
)

from orchestration import health
from orchestration.project import tally_project
from orchestration.resources import TallyDatabase


@op(description="Mart freshness, last runs, raw source freshness and failing asset checks.")
def health_check(context: OpExecutionContext, tally_db: TallyDatabase) -> dict:
    manifest = health.load_manifest(tally_project.manifest_path)
    with tally_db.connect(autocommit=True) as conn:
        report = health.collect(
            conn, manifest, repository=_code_location(context), instance=context.instance
        )
    context.log.info("\n" + report.table())
    counts = report.counts()
    if not report.healthy:
        bad = [
            c.detail if c.check == "watermark" else f"{c.check} {c.target}: {c.status}"
            for c in report.checks
            if c.bad
        ]
        raise Failure(
            description=f"unhealthy: {'; '.join(bad[:10])}",
            metadata={
                "counts": MetadataValue.json(counts),
                "table": MetadataValue.md(_markdown(report)),
            },
        )
    return counts


def _code_location(context: OpExecutionContext):
    """The run's code location: the step's own when Dagster loaded one (runs launched by
    the daemon, the UI or GraphQL), else the definitions the in-process CLI run came from
    (by then fully imported: no import cycle)."""
    try:
        return context.repository_def
    except Exception:  # execute_in_process sets none (an invariant error, not public API)
        from orchestration.definitions import defs

        return defs.get_repository_def()


def _markdown(report: health.Report) -> str:
    rows = ["| check | target | status | value | limit | detail |", "|---|---|---|---|---|---|"]
    rows += [
        f"| {c.check} | {c.target} | {c.status} | {c.value} | {c.limit} | {c.detail} |"
        for c in report.checks
    ]
    return "\n".join(rows)


@job(tags={"dagster/max_runtime": str(5 * 60)}, description="tally health, as a run.")
def health_check_job() -> None:
    health_check()


def health_schedule() -> ScheduleDefinition:
    from orchestration.flags import default_status

    return ScheduleDefinition(
        name="health_check_every_5_minutes",
        job=health_check_job,
        cron_schedule="*/5 * * * *",
        execution_timezone="UTC",
        default_status=default_status("health_check"),
        description="Health checks every 5 minutes (TALLY_HEALTH_CHECK_ENABLED).",
    )
