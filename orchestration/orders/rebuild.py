"""Run an admin rebuild request of the order marts in-process (CLI and tests)."""

from __future__ import annotations

import uuid

import psycopg

from orchestration import runtime
from orchestration.orders import requests as rq


def run_tags(request: rq.RebuildRequest) -> dict[str, str]:
    tags = {
        "tally/rebuild_organization_id": str(request.organization_id),
        "tally/rebuild_request_id": str(request.id),
        "tally/full_refresh": str(request.full_refresh).lower(),
    }
    if request.campaign_id is not None:
        tags["tally/rebuild_campaign_id"] = str(request.campaign_id)
    return tags


def execute(conn: psycopg.Connection, request: rq.RebuildRequest, *, actor: str = "cli"):
    """Execute a freshly queued request (not a joined one); record status and audit."""
    runtime.ensure_manifest()
    from dagster import DagsterInstance

    from orchestration.definitions import defs

    job = defs.resolve_job_def("orders_rebuild")
    run_id = str(uuid.uuid4())
    rq.mark_running(conn, request.id, run_id)
    request = rq.RebuildRequest(
        **{**request.__dict__, "dagster_run_id": run_id, "status": "running"}
    )
    try:
        with (
            DagsterInstance.get() as instance,
            runtime.run_guard("orders_rebuild", instance) as guard_tags,
        ):
            result = job.execute_in_process(
                run_config=request.run_config(),
                instance=instance,
                tags={**run_tags(request), **guard_tags},
                run_id=run_id,
                raise_on_error=False,
            )
    except BaseException as exc:
        rq.mark_finished(conn, request, success=False, actor=actor, error=str(exc)[:500])
        raise
    error = None if result.success else runtime.failure_summary(result)
    rq.mark_finished(conn, request, success=result.success, actor=actor, error=error)
    return request, result
