"""The admin rebuild job of the order marts: one code path for the CLI, the Launchpad,
GraphQL and the config-recalc sensor.

Not partitioned (a rebuild covers the tenant's whole history). Its first op validates
the scope, joins an active request for it (dedup) or queues a new one, and audits;
a bad scope fails the run before dbt starts, with the CLI's one-line message as the
run's failure reason. The second op runs dbt on the five order marts (their dbt tests
are their asset checks) and records the outcome; the days it wrote are marked as
materialized partitions. Launchpad config::

    ops:
      rebuild_request:
        config: {organization_id: 3, campaign_id: null, full_refresh: false}
"""

# No `from __future__ import annotations`: Dagster reads the op annotations at runtime.
from typing import Any

from dagster import (
    AssetKey,
    AssetMaterialization,
    Config,
    Failure,
    In,
    OpExecutionContext,
    Out,
    job,
    op,
)
from dagster_dbt import DbtCliResource
from pydantic import Field

from orchestration.dbt_args import RebuildScope, build_args, incremental_vars, run_vars
from orchestration.errors import TallyError
from orchestration.resources import TallyDatabase
from orchestration.runs import queue_tags

ORDER_MARTS = (
    "agg_order_daily",
    "agg_order_customer_daily",
    "agg_campaign_recipient_totals",
    "agg_order_customer_day_pairs",
    "agg_order_running_totals",
)
ORDER_MART_KEYS = [AssetKey(["marts", name]) for name in ORDER_MARTS]
JOB_NAME = "orders_rebuild"
REQUEST_OP = "rebuild_request"


class RebuildConfig(Config):
    """An admin rebuild of the order marts for one organization (optionally one campaign)."""

    organization_id: int = Field(description="organization to rebuild (raw.organizations.id)")
    campaign_id: int | None = Field(
        default=None, description="only this campaign of the organization (raw.campaigns.id)"
    )
    full_refresh: bool = Field(
        default=False,
        description="mark-and-sweep: also delete the scope's rows the rebuild did not write",
    )
    requested_by: str = Field(
        default="launchpad", description="who asks; written to ops.audit_entries"
    )


def run_config(
    organization_id: int,
    campaign_id: int | None = None,
    *,
    full_refresh: bool = False,
    requested_by: str = "launchpad",
) -> dict[str, Any]:
    """The job's run config (what the Launchpad shows)."""
    return {
        "ops": {
            REQUEST_OP: {
                "config": {
                    "organization_id": int(organization_id),
                    "campaign_id": None if campaign_id is None else int(campaign_id),
                    "full_refresh": bool(full_refresh),
                    "requested_by": requested_by,
                }
            }
        }
    }


def mart_tests(keys=None) -> list[str]:
    """The dbt tests that are asset checks of the order marts, by name: selected
    explicitly so that a check also reading an unselected staging view (a campaign list)
    runs too (dbt's buildable indirect selection would drop it)."""
    import json

    from dagster_dbt.asset_utils import get_asset_check_key_for_test

    from orchestration.project import tally_project
    from orchestration.translator import translator

    manifest = json.loads(tally_project.manifest_path.read_text())
    wanted = set(keys or ORDER_MART_KEYS)
    out = []
    for unique_id, node in manifest["nodes"].items():
        if node.get("resource_type") != "test":
            continue
        key = get_asset_check_key_for_test(manifest, translator, unique_id, project=tally_project)
        if key is not None and key.asset_key in wanted:
            out.append(node["name"])
    return sorted(out)


@op(
    name=REQUEST_OP,
    out=Out(dict),
    description="Validate the scope, queue the request or join the active one, audit.",
)
def rebuild_request(
    context: OpExecutionContext, config: RebuildConfig, tally_db: TallyDatabase
) -> dict:
    from orchestration.orders import requests as rq

    with tally_db.connect() as conn:
        try:
            request = rq.submit(
                conn,
                config.organization_id,
                config.campaign_id,
                full_refresh=config.full_refresh,
                actor=config.requested_by,
            )
        except TallyError as exc:
            raise Failure(description=str(exc), allow_retries=False) from None
        if not request.joined:
            rq.mark_running(conn, request.id, context.run_id)
    out = {**request.__dict__, "scope": request.scope, "actor": config.requested_by}
    if request.joined:
        context.log.info(
            f"a rebuild of {request.scope} is already {request.status}: joined request "
            f"#{request.id} (Dagster run {request.dagster_run_id or 'not started yet'})"
        )
    else:
        out.update(status="running", dagster_run_id=context.run_id)
        context.log.info(f"rebuilding {request.scope} (request #{request.id})")
    return out


@op(
    ins={"request": In(dict)},
    out=Out(dict),
    description="dbt build of the five order marts for the scope (and their checks); "
    "records completed/failed and the audit entry.",
)
def rebuild_order_marts(
    context: OpExecutionContext, request: dict, dbt: DbtCliResource, tally_db: TallyDatabase
):
    from orchestration.orders import requests as rq
    from orchestration.partition_status import dbt_invocation_id, mark_days
    from orchestration.project import tally_project
    from orchestration.translator import translator

    if request["joined"]:
        return request
    req = rq.RebuildRequest(**{k: v for k, v in request.items() if k not in ("scope", "actor")})
    actor = request["actor"]
    dbt_vars = incremental_vars(
        None,
        RebuildScope(
            "rebuild_organization_id", req.organization_id, req.campaign_id, req.full_refresh
        ),
    )
    try:
        written = []
        with run_vars(dbt_vars):  # through the environment: dbt keeps its saved parse
            invocation = dbt.cli(
                [*build_args(), "--select", " ".join([*ORDER_MARTS, *mart_tests()])],
                manifest=tally_project.manifest_path,
                dagster_dbt_translator=translator,
                context=context,
                raise_on_error=False,
            )
            for event in invocation.stream():
                if isinstance(event, AssetMaterialization) and event.asset_key in ORDER_MART_KEYS:
                    written.append(event.asset_key)
                    invocation_id = dbt_invocation_id(event)
                context.log_event(event)
        if written:
            mark_days(context, tally_db, invocation_id, written)
        # the rebuild succeeded when its models did; a failing check stays a failed asset
        # check (e.g. a reconcile test over other organizations' changes not ticked yet)
        results = invocation.get_artifact("run_results.json")["results"]
        failed = [
            r["unique_id"].split(".")[-1]
            for r in results
            if r["unique_id"].startswith("model.") and r["status"] != "success"
        ]
        checks = [
            r["unique_id"].split(".")[-1]
            for r in results
            if r["unique_id"].startswith("test.") and r["status"] in ("fail", "error")
        ]
        if checks:
            context.log.warning(f"the marts were rebuilt but checks failed: {', '.join(checks)}")
        ok = not failed
        error = None if ok else f"dbt build failed for {', '.join(failed)}; see the run's logs"
    except Exception as exc:
        ok, error = False, str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__
    with tally_db.connect() as conn:
        rq.mark_finished(conn, req, success=ok, actor=actor, error=error)
    if not ok:
        raise Failure(description=f"rebuild of {req.scope} failed: {error}")
    return request


@job(
    name=JOB_NAME,
    description="Admin rebuild of the order marts for one organization (optionally one "
    "campaign); validated, deduplicated and audited in the run itself.",
    tags=queue_tags(JOB_NAME),
)
def orders_rebuild() -> None:
    rebuild_order_marts(rebuild_request())
