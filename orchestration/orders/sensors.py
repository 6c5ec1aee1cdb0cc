"""Config-triggered recalc (seed 000's recalc pipeline): a changed excluded_attributions
(or reporting timezone) launches the organization's full-refresh rebuild.

Detection compares the organization's current ``config_version``
(int_orders__organizations_validated) with the
``tenant_version`` the order marts last aggregated it with (``ops.aggregation_progress``).
Rapid repeated saves yield one run: a change is acted on only once the organization row
has been quiet for ``SETTLE_SECONDS``, the cursor remembers the version already
requested, and the run key is the config hash (Dagster never launches a key twice).
A tick that runs first rebuilds the tenant itself (version change = whole tenant) and
records the new version, after which the sensor sees nothing to do - the two agree.
"""

# No `from __future__ import annotations`: Dagster reads the sensor's resource annotation.

import hashlib
import json
import os

import psycopg
from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from orchestration.flags import default_status
from orchestration.manifest import relation
from orchestration.orders import requests as rq
from orchestration.orders.jobs import orders_rebuild, run_config
from orchestration.resources import TallyDatabase

SETTLE_SECONDS = int(os.environ.get("TALLY_ORDERS_RECALC_SETTLE_SECONDS", "30"))
ACTOR = "sensor:orders_config_recalc"


def pending_changes(
    conn: psycopg.Connection, settle_seconds: int = SETTLE_SECONDS
) -> list[tuple[int, str]]:
    """(organization_id, config_version) of tenants whose marts lag their configuration."""
    organizations = relation("int_orders__organizations_validated", parse=False)
    exists = conn.execute(
        "select to_regclass(%s) is not null and to_regclass('ops.aggregation_progress') is not null",
        (organizations,),
    ).fetchone()
    if not exists or not exists[0]:
        return []
    return conn.execute(
        f"""
        select o.organization_id, o.config_version
        from {organizations} as o
        join ops.aggregation_progress as p
            on p.mart = 'agg_order_daily' and p.tenant_id = o.organization_id
        where o.aggregation_timezone is not null
            and p.tenant_version is distinct from o.config_version
            and o.updated_at <= now() - make_interval(secs => %s)
            and not exists (
                select 1 from ops.rebuild_requests as r
                where r.organization_id = o.organization_id and r.campaign_id is null
                    and r.status in ('queued', 'running')
            )
        order by o.organization_id
        """,
        (settle_seconds,),
    ).fetchall()


def config_hash(version: str) -> str:
    return hashlib.sha256(version.encode()).hexdigest()[:16]


def recalc_requests(
    conn: psycopg.Connection, cursor: dict[str, str], settle_seconds: int = SETTLE_SECONDS
):
    """RunRequests for changed tenants not yet requested (audited); returns (requests, cursor)."""
    rq.ensure_tables(conn)
    out, new_cursor = [], dict(cursor)
    for org, version in pending_changes(conn, settle_seconds):
        digest = config_hash(version)
        if cursor.get(str(org)) == digest:
            continue
        run_key = f"orders-recalc-{org}-{digest}"
        with conn.transaction():
            rq.audit(
                conn,
                ACTOR,
                "orders.recalc.triggered",
                str(org),
                {"config_version": version, "run_key": run_key, "full_refresh": True},
            )
        rq._commit(conn)
        new_cursor[str(org)] = digest
        out.append(
            RunRequest(
                run_key=run_key,
                run_config=run_config(org, full_refresh=True, requested_by=ACTOR),
                tags={"tally/rebuild_organization_id": str(org), "tally/trigger": "config_change"},
            )
        )
    rq._commit(conn)
    return out, new_cursor


@sensor(
    job=orders_rebuild,
    minimum_interval_seconds=60,
    default_status=default_status("orders_recalc", DefaultSensorStatus),
    description="Full-refresh rebuild of an organization whose excluded_attributions or timezone changed "
    "(TALLY_ORDERS_RECALC_ENABLED).",
)
def orders_config_recalc(context: SensorEvaluationContext, tally_db: TallyDatabase):
    cursor = json.loads(context.cursor) if context.cursor else {}
    with tally_db.connect() as conn:
        requests, new_cursor = recalc_requests(conn, cursor)
    if not requests:
        return SkipReason("no organization configuration changed")
    context.update_cursor(json.dumps(new_cursor, sort_keys=True))
    return requests
