"""`tally health`: exit status both ways, stale/missing detection, pure helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from conftest import execute, run_tally

from orchestration import datagen, health, runtime


def test_parse_interval_and_defaults() -> None:
    assert health.parse_interval("15 minutes") == timedelta(minutes=15)
    assert health.parse_interval("1 day") == timedelta(days=1)
    assert health.parse_interval("2 weeks") == timedelta(days=14)
    with pytest.raises(ValueError):
        health.parse_interval("soon")
    ri = health.refresh_interval
    assert ri("agg_x", {"tally": {"refresh_interval": "3 hours"}}, ["sliding_window"]) == timedelta(
        hours=3
    )
    assert ri("agg_order_daily", {}, ["sliding_window"]) == timedelta(minutes=15)
    assert ri("mv_workspace_summary", {}, []) == timedelta(minutes=15)
    assert ri("agg_execution_metrics_hourly", {}, []) == timedelta(hours=1)
    assert ri("agg_execution_metrics_weekly", {}, []) == timedelta(days=7)
    assert ri("agg_execution_metrics_daily", {}, []) == timedelta(days=1)


def test_report_exit_code_and_table() -> None:
    report = health.Report(
        [
            health.Check("rows", "marts.a", health.OK, "1"),
            health.Check("rows", "marts.b", health.WARN, "0"),
        ]
    )
    assert report.exit_code == 0 and "healthy" in report.table()
    report.checks.append(health.Check("rows", "marts.c", health.MISSING))
    assert report.exit_code == 1 and "UNHEALTHY" in report.table()


def test_manifest_discovery_reports_unbuilt_marts_missing(new_database) -> None:
    url = new_database("h")
    manifest = {
        "nodes": {
            "model.tally.agg_future": {
                "resource_type": "model",
                "schema": "marts",
                "name": "agg_future",
                "tags": [],
                "config": {"meta": {}},
                "fqn": ["tally", "marts", "platform", "agg_future"],
            }
        },
        "sources": {},
    }
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema marts")
        conn.execute("create table marts.agg_adhoc (id int, last_updated timestamptz)")
        conn.execute("insert into marts.agg_adhoc values (1, now())")
        report = health.collect(conn, manifest)
    by = {(c.check, c.target): c for c in report.checks}
    assert by[("rows", "marts.agg_future")].status == health.MISSING
    assert by[("rows", "marts.agg_adhoc")].status == health.OK  # found via pg_catalog
    assert by[("data-age", "marts.agg_adhoc")].status == health.OK
    assert report.exit_code == 1


@pytest.mark.slow
def test_health_exit_codes(tally_db: str) -> None:
    url = tally_db
    with psycopg.connect(url) as conn:
        datagen.generate(conn, scale=0.02, seed=5, domains=["commerce"])
    runtime.run_dbt(
        ["build", "--select", "+agg_integration_usage_daily", "+agg_sending_stats_30d"],
        capture=True,
        quiet=True,
    )

    ok = run_tally("health", "--domain", "commerce", "--no-dagster", url=url)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "marts.agg_integration_usage_daily" in ok.stdout and "raw.orders" in ok.stdout
    assert "healthy" in ok.stdout

    # the daily mart's last run and data two days old, raw emails not loaded for 8 days
    old = datetime.now(UTC) - timedelta(days=3)
    execute(
        url,
        "update ops.mart_runs set finished_at = %s where mart = 'agg_integration_usage_daily'",
        (old,),
    )
    execute(url, "update marts.agg_integration_usage_daily set last_updated = %s", (old,))
    execute(url, "alter table raw.emails disable trigger user")
    execute(url, "update raw.emails set updated_at = updated_at - interval '8 days'")
    bad = run_tally("health", "--domain", "commerce", "--no-dagster", url=url)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    stale = {ln.split()[1] for ln in bad.stdout.splitlines() if " STALE " in ln}
    assert stale == {"marts.agg_integration_usage_daily", "raw.emails"}
    assert "UNHEALTHY" in bad.stdout

    execute(url, "drop table marts.agg_sending_stats_30d")
    missing = run_tally("health", "--domain", "commerce", "--no-dagster", "--json", url=url)
    assert missing.returncode == 1
    assert '"status": "missing"' in missing.stdout


@pytest.mark.slow
def test_health_reads_dagster_runs_and_asset_checks(tally_db: str) -> None:
    """After a Dagster run: last-run comes from the materialization, a warn check is listed."""
    from orchestration.definitions import defs

    url = tally_db
    execute(
        url,
        "insert into raw.emails (account_id, category, sent_at, updated_at)"
        " values (1, 'newsletter', now() - interval '1 day', now())",
    )
    result = runtime.execute_job("commerce_sending_stats")
    assert result.success, runtime.failure_summary(result)

    with psycopg.connect(url, autocommit=True) as conn:
        report = health.collect(
            conn,
            health.load_manifest(runtime.MANIFEST),
            domain="commerce",
            repository=defs.get_repository_def(),
        )
    by = {(c.check, c.target): c for c in report.checks}
    run = by[("last-run", "marts.agg_sending_stats_30d")]
    assert run.status == health.OK and run.detail == "Dagster materialization"
    check = by[("asset-check", "marts/agg_sending_stats_30d")]
    assert check.status == health.WARN and check.value == "assert_commerce_email_categories_known"

    # the health job reads the same database (its resource) and the same asset checks
    # (the run's code location, not an import of the definitions)
    job = runtime.execute_job("health_check_job")
    if job.success:
        counts = job.output_for_node("health_check")
    else:
        (failure,) = job.get_step_failure_events()
        data = failure.step_failure_data.user_failure_data
        assert data is not None, failure.step_failure_data.error.to_string()
        assert data.description.startswith("unhealthy: ")
        counts = data.metadata["counts"].value
    with psycopg.connect(url, autocommit=True) as conn:
        full = health.collect(
            conn, health.load_manifest(runtime.MANIFEST), repository=defs.get_repository_def()
        )
    assert counts == full.counts()
    assert counts.get(health.WARN, 0) >= 1  # the commerce warning above is in it


def test_health_schedule_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster import DefaultScheduleStatus

    from orchestration.health_schedule import health_schedule

    runtime.ensure_manifest()  # the schedule's module chain loads the dbt assets
    monkeypatch.delenv("TALLY_HEALTH_CHECK_ENABLED", raising=False)
    schedule = health_schedule()
    assert schedule.cron_schedule == "*/5 * * * *"
    assert schedule.default_status == DefaultScheduleStatus.RUNNING
    monkeypatch.setenv("TALLY_HEALTH_CHECK_ENABLED", "false")
    assert health_schedule().default_status == DefaultScheduleStatus.STOPPED


def test_helper_tables_of_a_mart_are_not_marts(new_database) -> None:
    """Issue 20 item 4: a mart's helper tables (kept by its hooks) are not reported as
    marts that "never" ran."""
    url = new_database("h")
    manifest = {
        "nodes": {
            "model.tally.agg_main": {
                "resource_type": "model",
                "schema": "marts",
                "name": "agg_main",
                "tags": [],
                "config": {"meta": {}},
                "fqn": ["tally", "marts", "orders", "agg_main"],
            }
        },
        "sources": {},
    }
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema marts")
        for name in ("agg_main", "agg_main__blocks", "agg_main_rank_prefix", "agg_other"):
            conn.execute(f"create table marts.{name} (id int, last_updated timestamptz)")
            conn.execute(f"insert into marts.{name} values (1, now())")
        report = health.collect(conn, manifest)
    targets = {c.target for c in report.checks}
    assert targets == {"marts.agg_main", "marts.agg_other"}


def test_internal_relations_are_not_marts_and_missing_ones_are_named(new_database) -> None:
    """Issue 17 item 4: the declared internal relations (schema marts_internal) are never
    listed as marts; one that does not exist is a `missing` row naming the mart that
    keeps it and the command that rebuilds it."""
    url = new_database("h")
    manifest = {
        "nodes": {
            "model.tally.agg_main": {
                "resource_type": "model",
                "schema": "marts",
                "name": "agg_main",
                "tags": [],
                "config": {"meta": {}},
                "fqn": ["tally", "marts", "orders", "agg_main"],
            }
        },
        "sources": {
            f"source.tally.tally_internal.{name}": {
                "source_name": "tally_internal",
                "identifier": name,
                "schema": "marts_internal",
                "config": {"meta": {"tally": {"owner": "agg_main", "reader": False}}},
            }
            for name in ("agg_main__ledger", "agg_main__blocks")
        },
    }
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema marts")
        conn.execute("create schema marts_internal")
        conn.execute("create table marts.agg_main (id int, last_updated timestamptz)")
        conn.execute("insert into marts.agg_main values (1, now())")
        conn.execute("create table marts_internal.agg_main__ledger (id int)")
        report = health.collect(conn, manifest)
    assert {c.target for c in report.checks if c.check != "internal"} == {"marts.agg_main"}
    (row,) = [c for c in report.checks if c.check == "internal"]
    assert (row.target, row.status) == ("marts_internal.agg_main__blocks", health.MISSING)
    assert "tally dbt -- run --full-refresh --select agg_main" in row.detail
    assert not report.healthy


def test_stalled_mart_rows(new_database) -> None:
    """A mart failing in every run since its watermark: WARN within one interval, FAILING
    (naming the mart, since when, how many runs and the error) after it; none once the
    watermark has moved past the failures."""
    url = new_database("h")
    now = datetime(2026, 12, 3, 12, 40, tzinfo=UTC)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema ops")
        conn.execute(
            "create table ops.aggregation_progress (mart text, tenant_id int, watermark timestamptz)"
        )
        conn.execute(
            "create table ops.model_failures (mart text, failed_at timestamptz, error text)"
        )
        conn.execute(
            "insert into ops.aggregation_progress values"
            " ('agg_a', 1, '2026-12-03 12:00+00'), ('agg_a', 2, '2026-12-03 11:00+00'),"
            " ('agg_b', 1, '2026-12-03 12:30+00'), ('agg_c', 1, '2026-12-03 12:39+00')"
        )
        conn.execute(
            "insert into ops.model_failures values"
            " ('agg_a', '2026-12-03 12:15+00', 'old error'),"
            " ('agg_a', '2026-12-03 12:25+00', 'duplicate key value'),"
            " ('agg_b', '2026-12-03 12:35+00', 'just failed'),"
            " ('agg_c', '2026-12-03 12:20+00', 'fixed since')"
        )
        rows = health.check_stalls(conn, ["agg_a", "agg_b", "agg_c"], now, timedelta(minutes=15))
    by = {c.target: c for c in rows}
    assert set(by) == {"marts.agg_a", "marts.agg_b"}
    assert by["marts.agg_a"].status == health.FAILING
    assert by["marts.agg_a"].detail == (
        "agg_a: watermark stuck since 12:00 UTC (2 failed runs): duplicate key value; "
        "fix the cause, then run `tally tick`"
    )
    assert by["marts.agg_b"].status == health.WARN and "just failed" in by["marts.agg_b"].detail
