"""Platform rollups (seed 004): hourly/daily/weekly execution metrics, user activity,
credits, concurrently refreshed materialized views and retention cleanup.

Expected values come from plain SQL aggregates of raw written here, independent of
the models. One module database; dbt runs only the platform subgraph.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from conftest import execute, query, run_tally

from orchestration import datagen, runtime

pytestmark = pytest.mark.slow

SELECT = ["--select", "path:models/staging/platform+"]

# Independent aggregates of raw (valid rows of known workspaces), per UTC grain.
EXPECTED_EXECUTIONS = """
    select
        e.workspace_id,
        date_trunc(%(grain)s, e.started_at, 'UTC') as bucket_start,
        case when e.status in ('succeeded', 'failed', 'cancelled') then e.status else 'other' end,
        count(*),
        coalesce(sum(e.duration_ms), 0),
        coalesce(max(e.duration_ms), 0),
        coalesce(sum(e.credits_used), 0)
    from raw.executions as e
    join raw.workspaces as w on w.id = e.workspace_id
    where e.started_at is not null and coalesce(e.duration_ms, 0) >= 0
        and coalesce(e.credits_used, 0) >= 0
    group by 1, 2, 3
"""
ACTUAL_EXECUTIONS = """
    select workspace_id, bucket_start, status, executions, duration_ms_sum, duration_ms_max, credits_used
    from marts.agg_execution_metrics_{name}
"""


def _rows(url: str, sql: str, params: dict | None = None) -> set[tuple]:
    return {tuple(r) for r in query(url, sql, params)}


def _build(check: bool = True) -> subprocess.CompletedProcess:
    return runtime.run_dbt(["build", *SELECT], check=check, capture=True, quiet=True)


def _results() -> dict[str, str]:
    data = json.loads((runtime.TARGET_DIR / "run_results.json").read_text())
    return {r["unique_id"].split(".")[-1]: r["status"] for r in data["results"]}


def _assert_matches_raw(url: str) -> None:
    for name, grain in (("hourly", "hour"), ("daily", "day"), ("weekly", "week")):
        expected = _rows(url, EXPECTED_EXECUTIONS, {"grain": grain})
        actual = _rows(url, ACTUAL_EXECUTIONS.format(name=name))
        assert actual == expected, f"{name}: {len(actual ^ expected)} rows differ"
    credits = _rows(
        url,
        """select workspace_id, date_trunc('hour', started_at, 'UTC'), coalesce(sum(credits_used), 0), count(*)
           from raw.executions join raw.workspaces w on w.id = workspace_id
           where started_at is not null and coalesce(duration_ms, 0) >= 0 and coalesce(credits_used, 0) >= 0
           group by 1, 2""",
    )
    assert credits == _rows(
        url,
        "select workspace_id, bucket_start, credits_used, executions from marts.agg_credit_consumption_hourly",
    )
    activity = _rows(
        url,
        """select workspace_id, user_id, date_trunc('hour', occurred_at, 'UTC'), count(*), count(distinct activity_type)
           from raw.user_activity join raw.workspaces w on w.id = workspace_id
           where user_id is not null and occurred_at is not null group by 1, 2, 3""",
    )
    assert activity == _rows(
        url,
        "select workspace_id, user_id, bucket_start, events, distinct_activity_types"
        " from marts.agg_user_activity_hourly",
    )


@pytest.fixture(scope="module")
def platform_db(tally_db: str) -> str:
    # generated history (and its updated_at) ends an hour back
    now = datetime.now(UTC) - timedelta(hours=1)
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.3, seed=7, domains=["platform"], now=now)
    _build()
    return tally_db


def test_rollups_equal_raw_after_mutations_and_bad_rows(platform_db: str) -> None:
    url = platform_db
    _assert_matches_raw(url)
    for seed in (11, 12):
        with psycopg.connect(url) as conn:
            datagen.mutate(conn, seed=seed)
    # bad input: an unknown status (counted as 'other'), a negative duration (left out)
    execute(
        url,
        """insert into raw.executions (workspace_id, user_id, status, started_at, duration_ms, credits_used, updated_at)
           values (1, 1, 'timed_out', now() - interval '3 hours', 500, 0.05, now()),
                  (1, 1, 'succeeded', now() - interval '5 hours', -40, 0.01, now())""",
    )
    proc = _build(check=False)
    assert proc.returncode != 0  # the error check on excluded rows fails the run ...
    results = _results()
    assert results["assert_platform_no_excluded_records"] == "fail"
    assert results["assert_platform_no_unknown_execution_statuses"] == "warn"
    failing = {k: v for k, v in results.items() if v not in ("success", "pass", "warn")}
    assert set(failing) == {"assert_platform_no_excluded_records"}  # ... and nothing else
    _assert_matches_raw(url)
    assert query(
        url, "select sum(executions) from marts.agg_execution_metrics_daily where status = 'other'"
    ) == [(1,)]
    # the source fixes its rows: the next run is clean and still exact
    execute(url, "delete from raw.executions where status = 'timed_out' or duration_ms < 0")
    _build()
    _assert_matches_raw(url)
    assert query(
        url, "select count(*) from marts.agg_execution_metrics_hourly where status = 'other'"
    ) == [(0,)]


def test_concurrent_refresh_does_not_block_readers(platform_db: str) -> None:
    url = platform_db
    view = "marts.mv_hourly_execution_stats"
    before = query(url, f"select count(*) from {view}")[0][0]
    assert before > 0
    blocker = psycopg.connect(url)
    blocker.execute("lock table marts.agg_execution_metrics_hourly in access exclusive mode")
    # the view refresh now holds its lock on the view and waits for the source table
    proc = subprocess.Popen(
        [
            runtime.dbt_executable(),
            "run",
            "--select",
            "mv_hourly_execution_stats",
            "--project-dir",
            str(runtime.PROJECT_ROOT),
            "--profiles-dir",
            str(runtime.PROJECT_ROOT),
            "--target-path",
            str(runtime.TARGET_DIR),
        ],
        cwd=runtime.PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            waiting = query(
                url,
                """select count(*) from pg_stat_activity
                   where query ilike '%%refresh materialized view concurrently%%'
                       and wait_event_type = 'Lock' and pid <> pg_backend_pid()""",
            )[0][0]
            if waiting:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the refresh never started")
        with psycopg.connect(url) as reader:
            reader.execute("set statement_timeout = '3s'")
            assert reader.execute(f"select count(*) from {view}").fetchone()[0] == before
    finally:
        blocker.rollback()
        blocker.close()
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out[-2000:]

    # control: a plain (non-concurrent) refresh does block the same reader
    holder = psycopg.connect(url)
    holder.execute(f"refresh materialized view {view}")  # open transaction keeps its lock
    try:
        with psycopg.connect(url) as reader:
            reader.execute("set statement_timeout = '1s'")
            with pytest.raises(psycopg.errors.QueryCanceled):
                reader.execute(f"select count(*) from {view}")
    finally:
        holder.rollback()
        holder.close()


def test_view_refresh_job_runs_through_dagster(platform_db: str) -> None:
    stamp = query(platform_db, "select refreshed_at from marts.mv_workspace_summary limit 1")[0][0]
    result = runtime.execute_job("platform_view_refresh")
    assert result.success
    assert (
        query(platform_db, "select min(refreshed_at) from marts.mv_workspace_summary")[0][0] > stamp
    )
    assert result.dagster_run.tags["dagster/max_runtime"] == "900"


def _let_an_hour_pass(url: str) -> None:
    """Age every change by an hour (capture off: this is not a source change)."""
    execute(
        url,
        """set tally.capture = 'off';
           update raw.executions set updated_at = updated_at - interval '1 hour';
           update raw.user_activity set updated_at = updated_at - interval '1 hour';
           update ops.raw_changes set captured_at = captured_at - interval '1 hour'""",
    )


def test_cleanup_dry_run_then_real_run_loses_nothing(platform_db: str) -> None:
    url = platform_db
    _let_an_hour_pass(url)  # the earlier tests' changes become older than the watermark lag
    _build()  # a fresh watermark
    now = datetime.now(UTC)
    raw_cut = (now - timedelta(days=90)).replace(hour=0, minute=0, second=0, microsecond=0)
    hourly_cut = (now - timedelta(days=180)).replace(hour=0, minute=0, second=0, microsecond=0)
    # a late row for a 120-day-old hour, not aggregated yet: cleanup must keep it
    late_at = raw_cut - timedelta(days=30) + timedelta(hours=5)
    execute(
        url,
        """insert into raw.executions (workspace_id, user_id, status, started_at, duration_ms, credits_used, updated_at)
           values (1, 1, 'succeeded', %s, 1234, 0.1234, now())""",
        (late_at,),
    )
    stop = late_at.replace(hour=0)
    old_raw = query(url, "select count(*) from raw.executions where started_at < %s", (stop,))[0][0]
    old_hourly = query(
        url,
        "select count(*) from marts.agg_execution_metrics_hourly where bucket_start < %s",
        (hourly_cut,),
    )[0][0]
    assert old_raw > 0 and old_hourly > 0
    daily_before = _rows(url, ACTUAL_EXECUTIONS.format(name="daily"))
    kept_hourly = _rows(
        url,
        ACTUAL_EXECUTIONS.format(name="hourly")
        + " where bucket_start >= %(lo)s and bucket_start < %(hi)s",
        {"lo": hourly_cut, "hi": stop},
    )
    total_raw = query(url, "select count(*) from raw.executions")[0][0]

    dry = run_tally("cleanup", "--dry-run", url=url, check=True)
    assert "dry run" in dry.stdout
    line = next(ln for ln in dry.stdout.splitlines() if ln.startswith("raw.executions"))
    assert f"{old_raw:,}" in line and "not aggregated yet" in line
    assert query(url, "select count(*) from raw.executions")[0][0] == total_raw  # nothing deleted

    captured = query(url, "select count(*) from ops.raw_changes")[0][0]
    run_tally("cleanup", "--batch-size", "500", url=url, check=True)
    assert query(url, "select count(*) from raw.executions where started_at < %s", (stop,)) == [
        (0,)
    ]
    assert query(url, "select count(*) from raw.executions where started_at = %s", (late_at,)) == [
        (1,)
    ]
    assert query(url, "select count(*) from ops.raw_changes")[0][0] == captured  # capture was off
    assert query(
        url,
        "select count(*) from marts.agg_execution_metrics_hourly where bucket_start < %s",
        (hourly_cut,),
    ) == [(0,)]
    assert query(
        url, "select horizon from ops.retention_horizons where relation = 'raw.executions'"
    ) == [(stop,)]

    # the next runs: aggregates of pruned raw hours survive, the late row is aggregated,
    # daily keeps every day (also those whose hourly rows are gone)
    _build()
    assert kept_hourly == _rows(
        url,
        ACTUAL_EXECUTIONS.format(name="hourly")
        + " where bucket_start >= %(lo)s and bucket_start < %(hi)s",
        {"lo": hourly_cut, "hi": stop},
    )
    late_hour = late_at.replace(minute=0, second=0, microsecond=0)
    got = query(
        url,
        """select sum(executions) from marts.agg_execution_metrics_hourly
           where workspace_id = 1 and bucket_start = %s""",
        (late_hour,),
    )[0][0]
    want = query(
        url,
        """select count(*) from raw.executions where workspace_id = 1
           and date_trunc('hour', started_at, 'UTC') = %s and duration_ms >= 0""",
        (late_hour,),
    )[0][0]
    assert got == want >= 1
    daily_after = _rows(url, ACTUAL_EXECUTIONS.format(name="daily"))
    late_day = late_at.replace(hour=0, minute=0, second=0, microsecond=0)
    assert {r for r in daily_before if r[1] != late_day} == {
        r for r in daily_after if r[1] != late_day
    }

    # a second cleanup (an hour later) removes the late row now that it is aggregated
    _let_an_hour_pass(url)
    run_tally("cleanup", url=url, check=True)
    assert query(url, "select count(*) from raw.executions where started_at < %s", (raw_cut,)) == [
        (0,)
    ]


def test_cleanup_refuses_retention_shorter_than_window(platform_db: str) -> None:
    proc = run_tally("cleanup", "--raw-retention-days", "1", url=platform_db)
    assert proc.returncode == 2
    assert "shorter than the aggregation window" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_feature_flags_switch_schedules_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster import DefaultScheduleStatus

    from orchestration.platform.jobs import PLATFORM_JOBS, TIME_LIMITS
    from orchestration.platform.schedules import platform_schedules

    on = {s.name: s for s in platform_schedules()}
    assert all(s.default_status == DefaultScheduleStatus.RUNNING for s in on.values())
    assert on["platform_hourly_rollup_at_05"].cron_schedule == "5 * * * *"
    assert on["platform_weekly_rollup_monday_0200"].cron_schedule == "0 2 * * 1"
    for flag, name in [
        ("TALLY_HOURLY_ROLLUP_ENABLED", "platform_hourly_rollup_at_05"),
        ("TALLY_DAILY_ROLLUP_ENABLED", "platform_daily_rollup_at_0100"),
        ("TALLY_WEEKLY_ROLLUP_ENABLED", "platform_weekly_rollup_monday_0200"),
        ("TALLY_VIEW_REFRESH_ENABLED", "platform_view_refresh_every_15_minutes"),
        ("TALLY_CLEANUP_ENABLED", "platform_cleanup_at_0300"),
    ]:
        monkeypatch.setenv(flag, "false")
        status = {s.name: s.default_status for s in platform_schedules()}
        assert status[name] == DefaultScheduleStatus.STOPPED
        assert sum(v == DefaultScheduleStatus.STOPPED for v in status.values()) == 1
        monkeypatch.delenv(flag)
    limits = {j.name: j.tags.get("dagster/max_runtime") for j in PLATFORM_JOBS}
    assert limits == {k: str(v) for k, v in TIME_LIMITS.items()}
    assert (
        TIME_LIMITS["platform_hourly_rollup"] == 3600
        and TIME_LIMITS["platform_view_refresh"] == 900
    )


def test_a_launchpad_cleanup_is_checked_in_the_run(platform_db: str) -> None:
    """The platform_cleanup job (the Launchpad's path) refuses the same bad settings as
    the CLI, with the CLI's one line as the run's failure reason."""
    config = {"ops": {"cleanup_old_data": {"config": {"raw_retention_days": 1}}}}
    result = runtime.execute_job("platform_cleanup", run_config=config)
    assert not result.success
    summary = runtime.failure_summary(result)
    assert "shorter than the aggregation window" in summary and "\n" not in summary
    assert "Traceback" not in summary
