"""Admin rebuild of the order marts: validation, dedup (one run per scope), audit, the
Dagster job end to end, and the config-triggered recalc sensor's request logic."""

from __future__ import annotations

import threading

import psycopg
import pytest
from conftest import execute, query, run_tally
from orders_expected import EXPECTED, differences

from orchestration import datagen, runtime
from orchestration.errors import TallyError
from orchestration.orders import rebuild
from orchestration.orders import requests as rq
from orchestration.orders.sensors import recalc_requests

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tally_db: str) -> str:
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.02, seed=5, domains=["orders"])
    runtime.run_dbt(
        ["run", "--select", "+path:models/marts/orders", "path:models/staging/orders"],
        capture=True,
        quiet=True,
    )
    return tally_db


def _other_org_campaign(url: str) -> tuple[int, int]:
    return query(
        url,
        "select c.organization_id, c.id from raw.campaigns c where c.organization_id <> 1"
        " order by c.id limit 1",
    )[0]


def test_bad_scope_is_refused_before_anything_is_written(built: str) -> None:
    url = built
    org, campaign = _other_org_campaign(url)
    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(TallyError, match="organization 999999 does not exist"):
            rq.submit(conn, 999999)
        with pytest.raises(
            TallyError, match=f"campaign {campaign} belongs to organization {org}, not 1"
        ):
            rq.submit(conn, 1, campaign)
        with pytest.raises(TallyError, match="campaign 888888 does not exist"):
            rq.submit(conn, 1, 888888)
    # refused requests change nothing: not even the request table is created (issue 16 F8)
    assert query(url, "select to_regclass('ops.rebuild_requests')") == [(None,)]
    proc = run_tally("rebuild", "--org", "1", "--campaign", str(campaign), url=url)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "belongs to organization" in proc.stderr


def test_a_bad_launch_fails_the_run_with_the_cli_message(built: str) -> None:
    """The Launchpad/GraphQL path (the job itself) refuses before dbt starts: the run
    fails with the CLI's one line as its failure reason, nothing is queued."""
    from dagster import DagsterInstance, DagsterRunStatus

    from orchestration.orders.jobs import run_config

    url = built
    result = runtime.execute_job("orders_rebuild", run_config=run_config(99999))
    assert not result.success
    message = "organization 99999 does not exist; pick an id from raw.organizations"
    assert runtime.failure_summary(result) == message
    steps = {e.step_key for e in result.all_events if e.is_step_start}
    assert steps == {"rebuild_request"}  # dbt never started
    with DagsterInstance.get() as instance:
        run = instance.get_run_by_id(result.run_id)
        assert run.status == DagsterRunStatus.FAILURE
    # nothing queued: the refusal creates no request table, or (if an earlier rebuild
    # created it) no row of the refused scope
    if query(url, "select to_regclass('ops.rebuild_requests')") != [(None,)]:
        assert query(
            url, "select count(*) from ops.rebuild_requests where organization_id = 99999"
        ) == [(0,)]
    proc = run_tally("rebuild", "--org", "99999", url=url)
    assert proc.returncode == 2 and proc.stderr.strip() == f"tally: error: {message}"


def test_second_request_joins_the_active_one(built: str) -> None:
    url = built
    org, campaign = _other_org_campaign(url)
    results: list[rq.RebuildRequest] = []

    def submit() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            results.append(rq.submit(conn, org, campaign, actor="test"))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.joined for r in results) == [False, True, True, True]
    assert len({r.id for r in results}) == 1
    # the CLI says which request/run it joined and starts nothing
    execute(
        url,
        "update ops.rebuild_requests set status = 'running', dagster_run_id = 'run-abc' where id = %s",
        (results[0].id,),
    )
    proc = run_tally("rebuild", "--org", str(org), "--campaign", str(campaign), url=url, check=True)
    assert f"joined request #{results[0].id}" in proc.stdout and "run-abc" in proc.stdout
    assert query(url, "select count(*) from ops.rebuild_requests") == [(1,)]
    # another scope (whole organization) is a separate request
    with psycopg.connect(url, autocommit=True) as conn:
        assert not rq.submit(conn, org, None, actor="test").joined
    actions = query(url, "select action, count(*) from ops.audit_entries group by 1 order by 1")
    assert dict(actions) == {"orders.rebuild.joined": 4, "orders.rebuild.requested": 2}
    execute(url, "update ops.rebuild_requests set status = 'completed'")


def test_dagster_rebuild_full_refresh(built: str) -> None:
    url = built
    execute(
        url, "update raw.attributions set archived = true where organization_id = 1 and id % 7 = 0"
    )  # no updated_at
    request, result = rebuild.execute(1, None, full_refresh=True, actor="test")
    assert result.success
    row = query(
        url,
        "select status, dagster_run_id from ops.rebuild_requests where id = %s",
        (request["id"],),
    )
    assert row == [("completed", result.run_id)]
    assert query(
        url,
        "select count(*) from ops.audit_entries where action = 'orders.rebuild.completed'"
        " and metadata ->> 'dagster_run_id' = %s",
        (result.run_id,),
    ) == [(1,)]
    # every order mart's dbt test ran as an asset check of its mart (none skipped)
    checks = {
        (e.asset_check_evaluation_data.asset_key.path[1], e.asset_check_evaluation_data.check_name)
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert ("agg_order_running_totals", "assert_orders_running_totals_reconcile") in checks
    assert ("agg_order_daily", "assert_orders_valid_configuration") in checks
    # the days the rebuild wrote are materialized partitions of the mart
    from dagster import AssetKey, DagsterInstance

    days = {
        str(d)
        for (d,) in query(
            url,
            "select distinct day_bucket from marts.agg_order_daily where run_id = ("
            " select run_id from marts.agg_order_daily where organization_id = 1"
            " order by last_updated desc limit 1)",
        )
    }
    assert len(days) > 30
    with DagsterInstance.get() as instance:
        parts = instance.get_materialized_partitions(AssetKey(["marts", "agg_order_daily"]))
    assert days <= parts
    with psycopg.connect(url, autocommit=True) as conn:
        for mart in EXPECTED:
            n, ex = differences(conn, mart)
            assert n == 0, (mart, ex)


def test_config_change_yields_one_recalc_request(built: str) -> None:
    url = built
    org = 2
    execute(
        url,
        """update raw.organizations set configuration = '{"excluded_attributions": ["sms", "view"]}',
                    updated_at = now() where id = %s""",
        (org,),
    )
    with psycopg.connect(url, autocommit=True) as conn:
        assert (
            recalc_requests(conn, {}, settle_seconds=30)[0] == []
        )  # still settling: saves may follow
    # a second rapid save, equivalent set in another order: same normalized version
    execute(
        url,
        """update raw.organizations set configuration = '{"excluded_attributions": ["view", "sms"]}',
                    updated_at = now() - interval '1 minute' where id = %s""",
        (org,),
    )
    with psycopg.connect(url, autocommit=True) as conn:
        requests, cursor = recalc_requests(conn, {}, settle_seconds=30)
        assert [r.run_config["ops"]["rebuild_request"]["config"] for r in requests] == [
            {
                "organization_id": org,
                "campaign_id": None,
                "full_refresh": True,
                "requested_by": "sensor:orders_config_recalc",
            }
        ]
        assert requests[0].run_key.startswith(f"orders-recalc-{org}-")
        again, _ = recalc_requests(conn, cursor, settle_seconds=30)
        assert again == []
    assert query(
        url, "select count(*) from ops.audit_entries where action = 'orders.recalc.triggered'"
    ) == [(1,)]
    # once the marts caught up (the tick rebuilds a re-versioned tenant), nothing is pending
    runtime.run_dbt(["run", "--select", "path:models/marts/orders"], capture=True, quiet=True)
    with psycopg.connect(url, autocommit=True) as conn:
        assert recalc_requests(conn, {}, settle_seconds=0)[0] == []
