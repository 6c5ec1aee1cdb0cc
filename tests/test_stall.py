"""Issue 16 F1: a mart that cannot advance its watermark for longer than one tick interval
makes `tally health` and the mart's asset check fail, naming the mart and its error.

The failure is real: a trigger makes the mart's progress record (its post-hook, inside the
mart's transaction) raise on every tick, so the mart's run fails and its watermark stays.
Time passing is the failure rows and the watermark moved back by 20 / 40 minutes.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from conftest import execute, query, run_tally

from orchestration import datagen, health, runtime

pytestmark = pytest.mark.slow

MART = "agg_order_running_totals"
CHECK = f"{MART}_not_stalled"
ERROR = "stall test: the mart cannot record its progress"


def _check_status() -> str | None:
    from dagster import AssetCheckKey, AssetKey, DagsterInstance

    key = AssetCheckKey(AssetKey(["marts", MART]), CHECK)
    with DagsterInstance.get() as instance:
        latest = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])
    record = latest.get(key)
    return None if record is None else record.status.value


def _tick(success: bool) -> None:
    result = runtime.execute_job("tick")
    assert result.success is success, runtime.failure_summary(result)


def _watermark_rows(url: str) -> list[health.Check]:
    with psycopg.connect(url, autocommit=True) as conn:
        report = health.collect(conn, health.load_manifest(runtime.MANIFEST))
    return [c for c in report.checks if c.check == "watermark"]


@pytest.fixture(scope="module")
def built(tally_db: str) -> str:
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.01, seed=7)
    runtime.run_dbt(["seed"], capture=True, quiet=True)
    runtime.run_dbt(["run"], capture=True, quiet=True)
    return tally_db


def test_every_incremental_mart_has_a_stall_check() -> None:
    manifest = json.loads(runtime.ensure_manifest().read_text())
    marts = {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and "sliding_window" in n.get("tags", [])
    }
    checks = {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "test" and n["name"].endswith(health.STALL_CHECK_SUFFIX)
    }
    assert checks == {f"{m}{health.STALL_CHECK_SUFFIX}" for m in marts}
    from orchestration.definitions import defs

    attached = {
        (k.asset_key.path[-1], k.name)
        for k in defs.resolve_asset_graph().asset_check_keys
        if k.name.endswith(health.STALL_CHECK_SUFFIX)
    }
    assert attached == {(m, f"{m}{health.STALL_CHECK_SUFFIX}") for m in marts}


def test_a_stalled_mart_fails_health_and_its_check(built: str) -> None:
    url = built
    _tick(True)
    assert _check_status() == "SUCCEEDED"
    execute(
        url,
        f"""
        create function ops.stall_test_refuse() returns trigger language plpgsql as $$
        begin raise exception '{ERROR}'; end $$;
        create trigger stall_test before insert or update on ops.aggregation_progress
        for each row when (new.mart = '{MART}') execute function ops.stall_test_refuse();
        """,
    )
    try:
        _tick(False)
        failures = query(url, "select mart, status, error from ops.model_failures")
        assert failures == [(MART, "error", ERROR)], failures
        # failing for less than one tick interval: a warning, not yet unhealthy
        (row,) = _watermark_rows(url)
        assert row.status == health.WARN and ERROR in row.detail

        # 20 minutes later (the watermark 40 minutes old): the second failing tick
        execute(url, "update ops.model_failures set failed_at = failed_at - interval '20 minutes'")
        execute(
            url,
            "alter table ops.aggregation_progress disable trigger stall_test;"
            f" update ops.aggregation_progress set watermark = watermark - interval '40 minutes',"
            f" last_run_at = last_run_at - interval '40 minutes' where mart = '{MART}';"
            " alter table ops.aggregation_progress enable trigger stall_test",
        )
        _tick(False)
        assert _check_status() == "FAILED"

        proc = run_tally("health", "--domain", "orders", "--no-dagster", url=url)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("watermark")]
        assert "FAILING" in line and f"marts.{MART}" in line
        assert f"{MART}: watermark stuck since " in line and "(2 failed runs)" in line
        assert f"{ERROR}; fix the cause, then run `tally tick`" in line
    finally:
        execute(url, "drop trigger if exists stall_test on ops.aggregation_progress")

    _tick(True)  # fixed: the watermark moves past every failure
    assert _watermark_rows(url) == []
    proc = run_tally("health", "--domain", "orders", "--no-dagster", url=url)
    assert proc.returncode == 0 and "watermark" not in proc.stdout, proc.stdout
    _tick(True)  # the next tick's check, evaluated after the fix, passes
    assert _check_status() == "SUCCEEDED"


def test_stall_interval_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from orchestration.errors import TallyError

    monkeypatch.delenv(health.STALL_AFTER_ENV, raising=False)
    assert health.stall_interval() == health.TICK_INTERVAL == timedelta(minutes=15)
    monkeypatch.setenv(health.STALL_AFTER_ENV, "30")
    assert health.stall_interval() == timedelta(minutes=30)
    monkeypatch.setenv(health.STALL_AFTER_ENV, "soon")
    with pytest.raises(TallyError, match="TALLY_STALL_AFTER_MINUTES"):
        health.stall_interval()
