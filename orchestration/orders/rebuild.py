"""Run the ``orders_rebuild`` job in-process (CLI and tests): the job itself validates,
deduplicates and audits, so this is the same code path as the Launchpad."""

from __future__ import annotations

from typing import Any

from orchestration import runtime
from orchestration.errors import TallyError
from orchestration.orders.jobs import JOB_NAME, REQUEST_OP, run_config


def run_tags(organization_id: int, campaign_id: int | None, full_refresh: bool) -> dict[str, str]:
    tags = {
        "tally/rebuild_organization_id": str(organization_id),
        "tally/full_refresh": str(full_refresh).lower(),
    }
    if campaign_id is not None:
        tags["tally/rebuild_campaign_id"] = str(campaign_id)
    return tags


def execute(
    organization_id: int,
    campaign_id: int | None = None,
    *,
    full_refresh: bool = False,
    actor: str = "cli",
) -> tuple[dict[str, Any], Any]:
    """(the request as the job saw it, the Dagster result); TallyError with the run's
    one-line failure reason when the request was refused."""
    result = runtime.execute_job(
        JOB_NAME,
        run_config=run_config(
            organization_id, campaign_id, full_refresh=full_refresh, requested_by=actor
        ),
        tags=run_tags(organization_id, campaign_id, full_refresh),
    )
    try:
        request = result.output_for_node(REQUEST_OP)
    except Exception:  # the first op failed: validation refused the request
        raise TallyError(runtime.failure_summary(result)) from None
    return request, result
