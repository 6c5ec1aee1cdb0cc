"""Snapshot report catalog (seed 001): metric_snapshots, recompute runs, query API.

Expected values come from plain SQL aggregates of raw written here, never from the
code under test. One module database; tests run in file order and share its state.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from conftest import PROJECT_ROOT, TALLY, execute, query, run_tally

from orchestration import datagen, runtime
from orchestration.errors import TallyError
from orchestration.reader import snapshots as reader
from orchestration.snapshots import runs
from orchestration.snapshots.catalog import seed_windows

pytestmark = pytest.mark.slow

RETENTION = {"day": 400, "week": 730}
TODAY = datetime.now(UTC).date()

# Independent aggregate of raw (seed 001 rules), one row per report/window/bucket/dimension.
EXPECTED_SQL = """
with e as (
    select e.occurred_at, s.slug, e.status, e.entity_id, e.amount_cents, e.processing_ms
    from raw.analytics_events e join raw.event_sources s on s.id = e.source_id
),
w(window_name, retention_days) as (values ('day', 400), ('week', 730)),
b as (
    select w.window_name, date_trunc(w.window_name, e.occurred_at at time zone 'UTC') as bucket, e.*
    from e cross join w
    where date_trunc(w.window_name, e.occurred_at at time zone 'UTC')
        >= date_trunc(w.window_name, (now() at time zone 'UTC') - w.retention_days * interval '1 day')
)
select 'volume-by-period', window_name, bucket, slug, count(*), sum(amount_cents), sum(processing_ms)
from b group by window_name, bucket, slug
union all
select 'status-counts', window_name, bucket, status, count(*), null, null
from b group by window_name, bucket, status
union all
select 'top-entities', window_name, bucket, entity_id, count(*), sum(amount_cents), sum(processing_ms)
from b group by window_name, bucket, entity_id
"""


def expected(url: str) -> dict:
    out = {}
    for slug, window, bucket, dim, events, amount, ms in query(url, EXPECTED_SQL):
        metrics = {"events": int(events)}
        if amount is not None:
            metrics.update(amount_cents=int(amount), processing_ms_sum=int(ms))
        out[(slug, window, bucket, dim)] = metrics
    return out


def actual(url: str) -> dict:
    out: dict = defaultdict(dict)
    rows = query(
        url,
        "select report_slug, window_name, bucket_start at time zone 'UTC', dimension_value,"
        " metric_name, metric_value from marts.metric_snapshots",
    )
    for slug, window, bucket, dim, metric, value in rows:
        out[(slug, window, bucket, dim)][metric] = int(value)
    return dict(out)


def lineage(url: str) -> dict:
    rows = query(
        url,
        "select report_slug, window_name, bucket_start at time zone 'UTC', dimension_value,"
        " metric_name, run_id, metric_value from marts.metric_snapshots",
    )
    return {r[:5]: (r[5], r[6]) for r in rows}


def tick() -> None:
    runtime.run_dbt(["run", "--select", "metric_snapshots"], capture=True, quiet=True)


def run_rows(url: str) -> int:
    return query(url, "select count(*) from ops.recompute_runs")[0][0]


@pytest.fixture(scope="module")
def url(tally_db: str) -> str:
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.1, seed=7, domains=["snapshots"])
    runtime.run_dbt(["build", "--select", "+metric_snapshots"], capture=True, quiet=True)
    reader.clear_cache()
    return tally_db


# --------------------------------------------------------------------------- the mart


def test_full_build_equals_raw_for_every_report_and_window(url: str) -> None:
    want, got = expected(url), actual(url)
    assert want, "no raw events in retention"
    assert got == want
    assert {k[0] for k in got} == {"volume-by-period", "status-counts", "top-entities"}
    assert_rank_prefix_matches_raw(url)
    assert {k[1] for k in got} == {"day", "week"}
    # seeds and the retention the test assumes agree
    assert {w.window_name: w.retention_days for w in seed_windows()} == RETENTION


def test_weekly_buckets_start_on_monday(url: str) -> None:
    bad = query(
        url,
        "select count(*) from marts.metric_snapshots where window_name = 'week' and"
        " (extract(isodow from bucket_start at time zone 'UTC') <> 1"
        " or (bucket_start at time zone 'UTC')::time <> '00:00')",
    )[0][0]
    assert bad == 0
    # a Sunday-evening event lands in the week that started six days earlier
    sunday = TODAY - timedelta(days=(TODAY.isoweekday() % 7) + 7)
    assert sunday.isoweekday() == 7
    monday = sunday - timedelta(days=6)
    raw = query(
        url,
        "select count(*) from raw.analytics_events where occurred_at >= %s and occurred_at < %s",
        (
            datetime(monday.year, monday.month, monday.day, tzinfo=UTC),
            datetime(sunday.year, sunday.month, sunday.day, tzinfo=UTC) + timedelta(days=1),
        ),
    )[0][0]
    snap = query(
        url,
        "select coalesce(sum(metric_value), 0) from marts.metric_snapshots where report_slug = 'status-counts'"
        " and window_name = 'week' and metric_name = 'events' and bucket_start = %s",
        (datetime(monday.year, monday.month, monday.day, tzinfo=UTC),),
    )[0][0]
    assert raw > 0 and int(snap) == raw


# Running totals of top-entities' events over week buckets, straight from raw: blocks of 13
# ISO weeks (91 days) from Monday 2001-01-01; one row per week bucket and entity seen in
# the block by then.
PREFIX_SQL = """
with e as (
    select entity_id, date_trunc('week', occurred_at at time zone 'UTC') as week
    from raw.analytics_events
    where date_trunc('week', occurred_at at time zone 'UTC')
        >= date_trunc('week', (now() at time zone 'UTC') - interval '730 days')
),
counts as (select week, entity_id, count(*) as n from e group by 1, 2),
weeks as (
    select distinct week,
        date '2001-01-01' + 91 * ((cast(week as date) - date '2001-01-01') / 91) as block
    from counts
)
select w.week, c.entity_id,
    sum(c.n) filter (where c.week < w.week),
    sum(c.n),
    count(*) filter (where c.week < w.week),
    count(*)
from weeks w
join counts c on c.week >= w.block and c.week <= w.week
group by 1, 2
"""


def assert_rank_prefix_matches_raw(url: str) -> None:
    want = {
        (week, entity): (int(before or 0), int(through), int(nb), int(nt))
        for week, entity, before, through, nb, nt in query(url, PREFIX_SQL)
    }
    got = {
        (week, entity): (int(before), int(through), nb, nt)
        for week, entity, before, through, nb, nt in query(
            url,
            "select bucket_start at time zone 'UTC', dimension_value, score_before, score_through,"
            " buckets_before, buckets_through from marts_internal.metric_snapshots_rank_prefix"
            " where report_slug = 'top-entities'",
        )
    }
    assert want and got == want


def test_snapshots_equal_raw_after_mutation_rounds(url: str) -> None:
    for seed in (11, 12):
        with psycopg.connect(url) as conn:
            counts = datagen.mutate(conn, seed=seed)
        assert counts.get("analytics_events.deleted", 0) > 0
        assert counts.get("analytics_events.late_inserted", 0) > 0
        tick()
        assert actual(url) == expected(url)
        assert_rank_prefix_matches_raw(url)
    # every row's run_id joins to a completed run
    orphans = query(
        url,
        "select count(*) from marts.metric_snapshots s where not exists (select 1 from"
        " ops.recompute_runs r where r.dbt_invocation_id = s.run_id and r.status = 'completed')",
    )[0][0]
    assert orphans == 0


def test_retention_prunes_old_buckets(url: str) -> None:
    old = datetime.now(UTC) - timedelta(days=RETENTION["day"] + 30)
    execute(
        url,
        "insert into marts.metric_snapshots values ('status-counts', 'day', date_trunc('day', %s::timestamptz),"
        " 'status', 'ancient', 'events', 1, now(), 'manual')",
        (old,),
    )
    tick()
    assert (
        query(url, "select count(*) from marts.metric_snapshots where dimension_value = 'ancient'")[
            0
        ][0]
        == 0
    )
    summary = query(url, "select summary from ops.recompute_runs order by id desc limit 1")[0][0]
    assert summary["rows_pruned"] >= 1
    assert summary["per_report"]["status-counts"]["day"]["pruned"] >= 1
    oldest_day = query(
        url, "select min(bucket_start) from marts.metric_snapshots where window_name = 'day'"
    )[0][0]
    assert oldest_day.date() >= TODAY - timedelta(days=RETENTION["day"] + 1)


# --------------------------------------------------------------------------- recompute runs


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def test_recompute_touches_no_bucket_outside_its_range(url: str) -> None:
    first = TODAY - timedelta(days=20)
    first = first - timedelta(days=first.weekday()) + timedelta(days=2)  # a Wednesday
    last = first + timedelta(days=1)  # Thursday
    # change raw inside and outside the range (no tick in between)
    execute(
        url,
        "update raw.analytics_events set amount_cents = amount_cents + 100000 where occurred_at >= %s"
        " and occurred_at < %s",
        (_day(first - timedelta(days=9)), _day(last + timedelta(days=9))),
    )
    before = lineage(url)
    outcome = runs.execute_recompute(first, last, ["volume-by-period", "top-entities"], [], "test")
    assert outcome.status == "completed"
    invocation = query(
        url, "select dbt_invocation_id from ops.recompute_runs where id = %s", (outcome.run_id,)
    )[0][0]
    after = lineage(url)
    monday = first - timedelta(days=first.weekday())
    touched = {k for k, (rid, _) in after.items() if rid == invocation}
    assert touched
    for slug, window, bucket, _dim, _metric in touched:
        assert slug in {"volume-by-period", "top-entities"}
        if window == "day":
            assert first <= bucket.date() <= last
        else:
            assert bucket.date() == monday  # the whole ISO week holding the range
    # every other row is exactly as before (same run id and value)
    for key, value in before.items():
        if key not in touched:
            assert after.get(key) == value, key
    # the rebuilt buckets equal raw; buckets outside the range still hold the old values
    want = expected(url)
    snap = actual(url)
    for slug in ("volume-by-period", "top-entities"):
        for (s, w, b, d), metrics in want.items():
            if s != slug:
                continue
            inside = (first <= b.date() <= last) if w == "day" else b.date() == monday
            if inside:
                assert snap.get((s, w, b, d)) == metrics
    outside = [
        (k, m)
        for k, m in want.items()
        if k[0] == "volume-by-period"
        and k[1] == "day"
        and first - timedelta(days=9) <= k[2].date() < first
    ]
    assert outside and any(snap.get(k) != m for k, m in outside)
    summary = outcome.summary
    assert set(summary["per_report"]) == {"volume-by-period", "top-entities"}
    assert summary["per_report"]["volume-by-period"]["day"]["buckets"] == 2
    assert summary["per_report"]["volume-by-period"]["week"]["buckets"] == 1
    assert summary["rows_inserted"] == len(touched)
    tick()  # the tick catches the outside changes (updated rows)
    assert actual(url) == expected(url)


def test_completed_lifecycle_and_audit_through_dagster(url: str) -> None:
    from orchestration.snapshots.jobs import JOB_NAME, OP_NAME, run_config

    result = runtime.execute_job(
        JOB_NAME, run_config=run_config(TODAY - timedelta(days=3), TODAY, [], ["day"], "alice")
    )
    assert result.success
    outcome = runs.RecomputeOutcome(result.output_for_node(OP_NAME), "completed", {}, None)
    assert query(
        url, "select dagster_run_id from ops.recompute_runs where id = %s", (outcome.run_id,)
    )[0][0] == (result.run_id)
    row = query(
        url,
        "select status, requested_by, created_at <= started_at and started_at <= finished_at,"
        " summary ? 'duration_seconds', error_message, windows from ops.recompute_runs where id = %s",
        (outcome.run_id,),
    )[0]
    assert row == ("completed", "alice", True, True, None, ["day"])
    # the job runs dbt through the DbtCliResource: one materialization of the mart, dagster-dbt's
    # own (the dbt node and invocation), with the recompute's figures added; the others are
    # the marks of the days it rewrote (partition_status), one per day, none outside the range
    mats = [e.materialization for e in result.get_asset_materialization_events()]
    (mat,) = [m for m in mats if m.partition is None]
    marked = {m.partition for m in mats if m.partition is not None}
    assert marked <= {(TODAY - timedelta(days=n)).isoformat() for n in range(4)}, marked
    assert mat.asset_key.path == ["marts", "metric_snapshots"]
    assert mat.metadata["unique_id"].value == "model.tally.metric_snapshots"
    assert mat.metadata["recompute_run_id"].value == outcome.run_id
    invocation = query(
        url, "select dbt_invocation_id from ops.recompute_runs where id = %s", (outcome.run_id,)
    )[0][0]
    assert mat.metadata["invocation_id"].value == invocation
    actions = [
        r[0]
        for r in query(
            url,
            "select action from ops.audit_entries where resource_type = 'recompute_run' and resource_id = %s order by id",
            (str(outcome.run_id),),
        )
    ]
    assert actions == [
        "recompute_run.requested",
        "recompute_run.started",
        "recompute_run.completed",
    ]


def test_forced_failure_is_recorded_and_writes_nothing(url: str) -> None:
    before = lineage(url)
    view = "staging.stg_snapshots__analytics_events"
    definition = query(url, "select pg_get_viewdef(%s::regclass)", (view,))[0][0]
    execute(url, f"drop view {view}")  # the recompute's dbt run does not rebuild staging
    try:
        outcome = runs.execute_recompute(TODAY - timedelta(days=2), TODAY, [], [], "test")
    finally:
        execute(url, f"create view {view} as {definition}")
    assert outcome.status == "failed"
    status, error, finished = query(
        url,
        "select status, error_message, finished_at is not null from ops.recompute_runs where id = %s",
        (outcome.run_id,),
    )[0]
    assert status == "failed" and finished
    assert "stg_snapshots__analytics_events" in error and "does not exist" in error
    assert lineage(url) == before
    assert (
        query(
            url,
            "select count(*) from ops.audit_entries where action = 'recompute_run.failed' and resource_id = %s",
            (str(outcome.run_id),),
        )[0][0]
        == 1
    )


def test_live_run_is_not_reaped_dead_one_is(url: str) -> None:
    from orchestration.snapshots.catalog import RecomputeRequest

    request = RecomputeRequest(TODAY, TODAY, (), (), "test")
    handle = runs.create_run(url, request, None)
    runs.mark_running(handle)
    with psycopg.connect(url, autocommit=True) as conn:
        assert runs.reap_stale_runs(conn) == []
    handle.close()  # the worker's connection dies with it
    with psycopg.connect(url, autocommit=True) as conn:
        assert runs.reap_stale_runs(conn) == [handle.id]
    assert query(
        url, "select status, error_message from ops.recompute_runs where id = %s", (handle.id,)
    )[0] == ("failed", runs.DEAD_WORKER)
    # a dead row left behind is reaped by the next run
    execute(
        url,
        "insert into ops.recompute_runs (status, date_from, date_to) values ('running', %s, %s)",
        (TODAY, TODAY),
    )
    stale = query(url, "select max(id) from ops.recompute_runs")[0][0]
    runs.execute_recompute(TODAY, TODAY, ["status-counts"], ["day"], "test")
    assert (
        query(url, "select status from ops.recompute_runs where id = %s", (stale,))[0][0]
        == "failed"
    )


def test_killed_cli_run_is_marked_failed_by_the_sensor(url: str) -> None:
    from dagster import build_sensor_context

    from orchestration.resources import TallyDatabase
    from orchestration.snapshots.sensors import recompute_runs_reaper

    last_id = query(url, "select coalesce(max(id), 0) from ops.recompute_runs")[0][0]
    env = {**os.environ, "TALLY_DATABASE_URL": url}
    proc = subprocess.Popen(
        [str(TALLY), "recompute", "--from", str(TODAY - timedelta(days=30)), "--to", str(TODAY)],
        cwd=PROJECT_ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    run_id = None
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline and run_id is None:
            rows = query(
                url,
                "select id from ops.recompute_runs where id > %s and status = 'running'",
                (last_id,),
            )
            run_id = rows[0][0] if rows else None
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert run_id is not None, "the CLI run never reached running"
    assert query(
        url,
        "select dagster_run_id is not null, requested_by like 'cli:%%' from ops.recompute_runs"
        " where id = %s",
        (run_id,),
    )[0] == (True, True)
    time.sleep(0.5)  # the server notices the dropped connection
    assert (
        query(url, "select status from ops.recompute_runs where id = %s", (run_id,))[0][0]
        == "running"
    )
    result = recompute_runs_reaper(
        build_sensor_context(resources={"tally_db": TallyDatabase(url=url)})
    )
    assert str(run_id) in str(result.skip_message)
    assert query(
        url, "select status, error_message from ops.recompute_runs where id = %s", (run_id,)
    )[0] == ("failed", runs.DEAD_WORKER)
    tick()  # whatever the killed run did or did not commit, the next tick makes it right
    assert actual(url) == expected(url)


@pytest.mark.parametrize(
    ("kwargs", "needles"),
    [
        ({"reports": ["nope"]}, ["reports", "volume-by-period", "top-entities"]),
        ({"windows": ["month"]}, ["windows", "day", "week"]),
        ({"date_from": "2026-02-02", "date_to": "2026-02-01"}, ["reversed", "date_from"]),
        ({"date_from": "yesterday"}, ["date_from", "YYYY-MM-DD"]),
    ],
)
def test_recompute_validation_writes_no_row(url: str, kwargs: dict, needles: list[str]) -> None:
    args = {
        "date_from": "2026-02-01",
        "date_to": "2026-02-02",
        "reports": [],
        "windows": [],
        **kwargs,
    }
    n = run_rows(url)
    with pytest.raises(TallyError) as err:
        runs.execute_recompute(
            args["date_from"], args["date_to"], args["reports"], args["windows"], "test"
        )
    for needle in needles:
        assert needle in str(err.value)
    assert run_rows(url) == n


def test_cli_recompute_validation_is_one_line(url: str) -> None:
    n = run_rows(url)
    proc = run_tally(
        "recompute", "--from", "2026-01-01", "--to", "2026-01-02", "--window", "hour", url=url
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "allowed: day, week" in proc.stderr
    assert run_rows(url) == n


# --------------------------------------------------------------------------- query API

RANGE = (TODAY - timedelta(days=89), TODAY)


def raw_by(
    url: str, group: str, window: str = "day", where: str = "", params: tuple = ()
) -> list[tuple]:
    """(bucket?, key, events, amount, ms) straight from raw; group in bucket|dim|both."""
    lo, hi = _day(RANGE[0]), _day(RANGE[1] + timedelta(days=1))
    bucket = f"date_trunc('{window}', e.occurred_at at time zone 'UTC')"
    select = {
        "bucket": f"{bucket}, null",
        "dim": "null::timestamp, {dim}",
        "both": f"{bucket}, {{dim}}",
    }[group]
    sql = (
        f"select {select}, count(*), sum(e.amount_cents), sum(e.processing_ms)"
        " from raw.analytics_events e join raw.event_sources s on s.id = e.source_id"
        f" where {bucket} >= %s and {bucket} < %s {where} group by 1, 2 order by 1, 2"
    )
    return sql, (lo.replace(tzinfo=None), hi.replace(tzinfo=None), *params)


def rows_of(url, sql_params, dim: str) -> list[tuple]:
    sql, params = sql_params
    return query(url, sql.replace("{dim}", dim), params)


def test_volume_by_period_totals_and_source_breakdown(url: str) -> None:
    tick()
    want = rows_of(url, raw_by(url, "bucket"), "s.slug")
    for breakdown in (None, "period"):
        report = reader.run_report(
            "volume-by-period", date_from=RANGE[0], date_to=RANGE[1], breakdown=breakdown
        )
        assert report.window == "day" and report.breakdown == "period" and report.limit is None
        got = [
            (
                r.bucket_start.replace(tzinfo=None),
                None,
                r.metrics["events"],
                r.metrics["amount_cents"],
                r.metrics["processing_ms_sum"],
            )
            for r in report.rows
        ]
        assert got == [tuple(r) for r in want]
        assert report.total == len(want)
        first = report.rows[0].metrics
        assert first["avg_processing_ms"] == pytest.approx(
            first["processing_ms_sum"] / first["events"]
        )
    report = reader.run_report(
        "volume-by-period", date_from=RANGE[0], date_to=RANGE[1], breakdown="source"
    )
    want = rows_of(url, raw_by(url, "both"), "s.slug")
    got = [
        (
            r.bucket_start.replace(tzinfo=None),
            r.dimension_value,
            r.metrics["events"],
            r.metrics["amount_cents"],
            r.metrics["processing_ms_sum"],
        )
        for r in report.rows
    ]
    assert got == [tuple(r) for r in want]
    report = reader.run_report(
        "volume-by-period",
        date_from=RANGE[0],
        date_to=RANGE[1],
        breakdown="source",
        filters={"source": "hubspot"},
    )
    assert report.rows and {r.dimension_value for r in report.rows} == {"hubspot"}
    assert [r for r in got if r[1] == "hubspot"] == [
        (
            r.bucket_start.replace(tzinfo=None),
            r.dimension_value,
            r.metrics["events"],
            r.metrics["amount_cents"],
            r.metrics["processing_ms_sum"],
        )
        for r in report.rows
    ]
    # run ids: exactly those of the rows in the range, each a completed run
    ids = {
        r[0]
        for r in query(
            url,
            "select distinct run_id from marts.metric_snapshots where report_slug = 'volume-by-period'"
            " and window_name = 'day' and bucket_start >= %s and bucket_start < %s",
            (_day(RANGE[0]), _day(RANGE[1] + timedelta(days=1))),
        )
    }
    assert set(report.run_ids) <= ids and reader.run_report(
        "volume-by-period", date_from=RANGE[0], date_to=RANGE[1], use_cache=False
    ).run_ids == tuple(sorted(ids))
    assert report.cache_ttl_seconds == 60


def test_status_counts_totals_period_breakdown_and_filter(url: str) -> None:
    report = reader.run_report("status-counts", date_from=RANGE[0], date_to=RANGE[1])
    want = {r[1]: r[2] for r in rows_of(url, raw_by(url, "dim"), "e.status")}
    assert (
        report.breakdown == "status"
        and {r.dimension_value: r.metrics["events"] for r in report.rows} == want
    )
    assert all(r.bucket_start is None for r in report.rows)
    assert set(report.rows[0].metrics) == {"events"}
    report = reader.run_report(
        "status-counts",
        date_from=RANGE[0],
        date_to=RANGE[1],
        breakdown="period",
        window="week",
        filters={"status": ["failed", "retried"]},
    )
    want = [
        (r[0], r[1], r[2])
        for r in rows_of(
            url,
            raw_by(url, "both", "week", "and e.status = any(%s)", (["failed", "retried"],)),
            "e.status",
        )
    ]
    assert [
        (r.bucket_start.replace(tzinfo=None), r.dimension_value, r.metrics["events"])
        for r in report.rows
    ] == want
    assert report.breakdown == "period+status"


def test_top_entities_ranking_and_pagination(url: str) -> None:
    ranking = sorted(
        rows_of(url, raw_by(url, "dim", "week"), "e.entity_id"), key=lambda r: (-r[2], r[1])
    )
    total = len(ranking)
    assert total > 12

    def page(limit: int, offset: int) -> reader.SnapshotReport:
        return reader.run_report(
            "top-entities", date_from=RANGE[0], date_to=RANGE[1], limit=limit, offset=offset
        )

    first = page(5, 0)
    assert (
        first.window == "week" and first.total == total and first.limit == 5 and first.offset == 0
    )
    assert [
        (r.rank, r.dimension_value, r.metrics["events"], r.metrics["amount_cents"])
        for r in first.rows
    ] == [(i + 1, r[1], r[2], r[3]) for i, r in enumerate(ranking[:5])]
    second = page(5, 5)
    assert [r.rank for r in second.rows] == [6, 7, 8, 9, 10]
    assert [r.dimension_value for r in second.rows] == [r[1] for r in ranking[5:10]]
    tail = page(5, total - 2)
    assert [r.dimension_value for r in tail.rows] == [
        r[1] for r in ranking[-2:]
    ] and tail.total == total
    past = page(5, total)
    assert past.rows == () and past.total == total
    assert len(page(1, 0).rows) == 1
    assert len(page(reader.MAX_LIMIT, 0).rows) == total
    day = reader.run_report(
        "top-entities", window="day", date_from=RANGE[0], date_to=RANGE[1], limit=3
    )
    want_day = sorted(
        rows_of(url, raw_by(url, "dim", "day"), "e.entity_id"), key=lambda r: (-r[2], r[1])
    )
    assert [r.dimension_value for r in day.rows] == [r[1] for r in want_day[:3]]
    assert first.cache_ttl_seconds == 300


def _ranking(url: str, first: date, last: date) -> list[tuple[str, int, int, int]]:
    """Every entity over first..last (UTC days) straight from raw, ranked like the reader."""
    rows = query(
        url,
        "select entity_id, count(*), sum(amount_cents), sum(processing_ms) from raw.analytics_events"
        " where occurred_at >= %s and occurred_at < %s group by 1",
        (_day(first), _day(last + timedelta(days=1))),
    )
    return sorted(((e, int(n), int(a), int(m)) for e, n, a, m in rows), key=lambda r: (-r[1], r[0]))


def _day_page(first: date, last: date, **kwargs) -> reader.SnapshotReport:
    return reader.run_report(
        "top-entities", window="day", date_from=first, date_to=last, use_cache=False, **kwargs
    )


def _got(report: reader.SnapshotReport) -> list[tuple[str, int, int, int]]:
    return [
        (
            r.dimension_value,
            r.metrics["events"],
            r.metrics["amount_cents"],
            r.metrics["processing_ms_sum"],
        )
        for r in report.rows
    ]


def test_top_entities_day_window_edges_are_not_whole_weeks(url: str) -> None:
    """The day-window ranking reads whole weeks from week buckets and the edge days from
    day buckets: every range shape must still equal raw exactly."""
    tick()
    monday = TODAY - timedelta(days=TODAY.weekday()) - timedelta(days=35)
    ranges = [
        RANGE,  # 90 days ending today
        (monday + timedelta(days=2), monday + timedelta(days=25)),  # Wed .. Fri, 3 weeks later
        (monday, monday + timedelta(days=20)),  # Monday .. Sunday: whole weeks only
        (monday - timedelta(days=1), monday + timedelta(days=7)),  # Sunday .. Monday
        (monday + timedelta(days=1), monday + timedelta(days=5)),  # inside one week
        (monday + timedelta(days=3), monday + timedelta(days=3)),  # one day
    ]
    # 13-week blocks of running totals start every 91 days from Monday 2001-01-01
    boundary = date(2001, 1, 1) + timedelta(days=91 * ((TODAY - date(2001, 1, 1)).days // 91))
    if (TODAY - boundary).days < 10:
        boundary -= timedelta(days=91)
    for first, last in [
        (boundary - timedelta(days=16), boundary + timedelta(days=8)),  # Wed .. Tue, 2 blocks
        (boundary - timedelta(days=91), boundary + timedelta(days=6)),  # a whole block + 1 week
        (boundary - timedelta(days=89), boundary - timedelta(days=3)),  # inside one block
    ]:
        # week window: the weeks whose Monday is in first..last, whole
        monday0 = first + timedelta(days=-first.weekday() % 7)
        monday1 = last - timedelta(days=last.weekday())
        for window, want in (
            ("week", _ranking(url, monday0, monday1 + timedelta(days=6))),
            ("day", _ranking(url, first, last)),
        ):
            report = reader.run_report(
                "top-entities",
                window=window,
                date_from=first,
                date_to=last,
                limit=reader.MAX_LIMIT,
                use_cache=False,
            )
            assert report.total == len(want), (window, first, last)
            assert _got(report) == want[: reader.MAX_LIMIT], (window, first, last)
    for first, last in ranges:
        want = _ranking(url, first, last)
        report = _day_page(first, last, limit=reader.MAX_LIMIT)
        assert report.total == len(want), (first, last)
        assert _got(report) == want[: reader.MAX_LIMIT], (first, last)
        assert [r.rank for r in report.rows] == list(range(1, len(report.rows) + 1))
        middle = _day_page(first, last, limit=3, offset=2)
        assert (
            _got(middle) == want[2:5]
            and [r.rank for r in middle.rows] == [3, 4, 5][: len(want[2:5])]
        )
        # the run ids are those of the day buckets in the range
        ids = query(
            url,
            "select coalesce(array_agg(distinct run_id order by run_id), '{}') from marts.metric_snapshots"
            " where report_slug = 'top-entities' and window_name = 'day'"
            " and bucket_start >= %s and bucket_start < %s",
            (_day(first), _day(last + timedelta(days=1))),
        )[0][0]
        assert report.run_ids == tuple(ids)
    # the whole-weeks range was answered from week buckets (one week part per run of weeks)
    assert _day_plan_parts(monday, monday + timedelta(days=20)) == [
        ("week", _day(monday), _day(monday + timedelta(days=21)))
    ]


def test_top_entities_day_window_skips_a_week_recomputed_without_its_days(url: str) -> None:
    """A recompute of the week window alone leaves the days as they were: the day-window
    ranking must keep answering from the day buckets, not from the newer week."""
    tick()
    monday = TODAY - timedelta(days=TODAY.weekday()) - timedelta(days=14)
    first, last = monday - timedelta(days=3), monday + timedelta(days=9)
    days_before = _got(_day_page(first, last, limit=reader.MAX_LIMIT))
    assert days_before == _ranking(url, first, last)[: reader.MAX_LIMIT]
    execute(
        url,
        "update raw.analytics_events set entity_id = 'ent_moved', updated_at = now()"
        " where occurred_at >= %s and occurred_at < %s",
        (_day(monday + timedelta(days=1)), _day(monday + timedelta(days=2))),
    )
    outcome = runs.execute_recompute(monday, monday, ["top-entities"], ["week"], "test")
    assert outcome.status == "completed"
    # the week bucket moved on, the day buckets did not: not verified, not used
    assert [p[0] for p in _day_plan_parts(first, last)] == ["day"]
    # the week bucket moved on, the day buckets did not: the answer is still the days'
    assert _got(_day_page(first, last, limit=reader.MAX_LIMIT)) == days_before
    week = reader.run_report(
        "top-entities",
        window="week",
        date_from=monday,
        date_to=monday,
        limit=reader.MAX_LIMIT,
        use_cache=False,
    )
    assert "ent_moved" in {r.dimension_value for r in week.rows}
    tick()  # the tick rebuilds the days too: both agree with raw again
    assert (
        _got(_day_page(first, last, limit=reader.MAX_LIMIT))
        == _ranking(url, first, last)[: reader.MAX_LIMIT]
    )
    assert "ent_moved" in {
        r.dimension_value for r in _day_page(first, last, limit=reader.MAX_LIMIT).rows
    }
    assert_rank_prefix_matches_raw(url)


def _day_plan_parts(first: date, last: date) -> list[tuple]:
    """The bucket ranges the reader plans for a day-window top-entities ranking."""
    with reader.reader_connection() as conn:
        q = reader.validate(
            reader.load_catalog(conn),
            "top-entities",
            window="day",
            date_from=first,
            date_to=last,
            breakdown=None,
            filters=None,
            limit=5,
            offset=0,
        )
        params = reader._params(q)
        probed = conn.execute(
            reader._SQL_BUCKET_RUNS,
            {**params, "probe_windows": ["day", "week"], "probe_metric": "events", "verify": True},
        ).fetchall()
    runs = {(r["window_name"], r["bucket_start"].astimezone(UTC)): r["run_id"] for r in probed}
    verified = frozenset(
        (r["window_name"], r["bucket_start"].astimezone(UTC)) for r in probed if r["verified"]
    )
    return reader._parts(q, runs, params["lo"], params["hi"], verified)


def test_week_checks_let_a_day_recompute_keep_its_week_usable(url: str) -> None:
    """A one-day recompute (every window) rewrites the day and its week, not the other six
    days: the week is verified equal to its days and still read as one bucket."""
    tick()
    monday = TODAY - timedelta(days=TODAY.weekday()) - timedelta(days=28)
    recomputed = monday + timedelta(days=2)

    def day_runs() -> dict[datetime, set[str]]:
        out: dict[datetime, set[str]] = {}
        for bucket, run_id in query(
            url,
            "select distinct bucket_start, run_id from marts.metric_snapshots"
            " where report_slug = 'top-entities' and window_name = 'day'"
            " and bucket_start >= %s and bucket_start < %s",
            (_day(monday), _day(monday + timedelta(days=7))),
        ):
            out.setdefault(bucket.astimezone(UTC), set()).add(run_id)
        return out

    # which run wrote each day depends on the date (an earlier test's change may fall
    # in this week and the tick rewrites that day): compare with the state after the tick
    before = day_runs()
    outcome = runs.execute_recompute(recomputed, recomputed, [], [], "t")
    assert outcome.status == "completed"
    after = day_runs()
    assert after.keys() == before.keys()
    assert len(after[_day(recomputed)]) == 1 and after[_day(recomputed)] != before[_day(recomputed)]
    # the other six days were not rewritten
    assert {d: r for d, r in after.items() if d != _day(recomputed)} == {
        d: r for d, r in before.items() if d != _day(recomputed)
    }
    first, last = monday - timedelta(days=2), monday + timedelta(days=8)
    assert ("week", _day(monday), _day(monday + timedelta(days=7))) in _day_plan_parts(first, last)
    assert (
        _got(_day_page(first, last, limit=reader.MAX_LIMIT))
        == _ranking(url, first, last)[: reader.MAX_LIMIT]
    )
    # every verified week holds: written by that run, equal to the sum of its days
    bad = query(
        url,
        """
        select c.bucket_start from marts_internal.metric_snapshots_week_check c
        where c.report_slug = 'top-entities' and (
            not exists (select 1 from marts.metric_snapshots w where w.report_slug = c.report_slug
                and w.window_name = 'week' and w.bucket_start = c.bucket_start and w.run_id = c.run_id)
            or exists (
                select 1 from (
                    select dimension_value, metric_name, metric_value as v from marts.metric_snapshots
                    where report_slug = c.report_slug and window_name = 'week' and bucket_start = c.bucket_start
                    union all
                    select dimension_value, metric_name, -metric_value from marts.metric_snapshots
                    where report_slug = c.report_slug and window_name = 'day'
                        and bucket_start >= c.bucket_start and bucket_start < c.bucket_start + interval '168 hours'
                ) x group by dimension_value, metric_name having sum(v) <> 0))
        """,
    )
    assert bad == []
    assert query(url, "select count(*) from marts_internal.metric_snapshots_week_check")[0][0] > 10


def test_cache_is_served_until_a_newer_run_completes_for_the_range(url: str, monkeypatch) -> None:
    reader.clear_cache()
    time.sleep(2.2)  # beyond the commit margin of the earlier runs
    args = {"date_from": TODAY - timedelta(days=6), "date_to": TODAY}
    a = reader.run_report("status-counts", **args)
    b = reader.run_report("status-counts", **args)
    assert not a.cached and b.cached and b.rows == a.rows
    # a completed run for another range, or another report, does not invalidate it
    for first, last, reports in (
        (TODAY - timedelta(days=60), TODAY - timedelta(days=50), ["status-counts"]),
        (TODAY, TODAY, ["top-entities"]),
    ):
        execute(
            url,
            "insert into ops.recompute_runs (status, date_from, date_to, reports, finished_at)"
            " values ('completed', %s, %s, %s, now())",
            (first, last, reports),
        )
    assert reader.run_report("status-counts", **args).cached
    # change raw in range, recompute it: the cached answer is not served any more
    execute(
        url,
        "update raw.analytics_events set status = 'retried' where occurred_at >= %s",
        (_day(TODAY - timedelta(days=1)),),
    )
    runs.execute_recompute(TODAY - timedelta(days=1), TODAY, ["status-counts"], ["day"], "t")
    fresh = reader.run_report("status-counts", **args)
    assert not fresh.cached and fresh.rows != a.rows
    want = {
        r[1]: r[2]
        for r in query(
            url,
            "select null, status, count(*) from raw.analytics_events where occurred_at >= %s group by 2",
            (_day(args["date_from"]),),
        )
    }
    assert {r.dimension_value: r.metrics["events"] for r in fresh.rows} == want
    # read within the commit margin of that run: re-read once more, then cached again
    time.sleep(2.2)
    assert not reader.run_report("status-counts", **args).cached
    assert reader.run_report("status-counts", **args).cached
    # past the TTL: re-read
    real = time.monotonic
    monkeypatch.setattr(reader.time, "monotonic", lambda: real() + 61)
    assert not reader.run_report("status-counts", **args).cached


@pytest.mark.parametrize(
    ("slug", "kwargs", "needles"),
    [
        ("nope", {}, ["report", "status-counts, top-entities, volume-by-period"]),
        ("status-counts", {"window": "month"}, ["window", "day, week"]),
        ("status-counts", {"filters": {"source": "x"}}, ["filters", "allowed: status"]),
        ("top-entities", {"filters": {"entity_id": "x"}}, ["filters", "allowed: (none)"]),
        ("volume-by-period", {"breakdown": "status"}, ["breakdown", "period, source"]),
        ("top-entities", {"breakdown": "period"}, ["breakdown", "allowed: (none)"]),
        (
            "status-counts",
            {"date_from": "2026-03-02", "date_to": "2026-03-01"},
            ["reversed", "date_from"],
        ),
        ("top-entities", {"limit": -1}, ["limit", "1 and 1000"]),
        ("top-entities", {"limit": 0}, ["limit", "1 and 1000"]),
        ("top-entities", {"limit": 1001}, ["limit", "1 and 1000"]),
        ("top-entities", {"offset": -1}, ["offset"]),
        ("top-entities", {"limit": "5"}, ["limit", "integer"]),
    ],
)
def test_query_validation(url: str, slug: str, kwargs: dict, needles: list[str]) -> None:
    args = {"date_from": "2026-03-01", "date_to": "2026-03-02", **kwargs}
    with pytest.raises(TallyError) as err:
        reader.run_report(slug, **args)
    for needle in needles:
        assert needle in str(err.value)


def test_cli_report_snapshot(url: str) -> None:
    proc = run_tally(
        "report",
        "snapshot",
        "top-entities",
        "--from",
        str(RANGE[0]),
        "--to",
        str(RANGE[1]),
        "--limit",
        "3",
        "--offset",
        "1",
        url=url,
        check=True,
    )
    assert "rows 2-4 of" in proc.stdout and "#2" in proc.stdout
    bad = run_tally(
        "report",
        "snapshot",
        "status-counts",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-02",
        "--filter",
        "source=x",
        url=url,
    )
    assert bad.returncode == 2 and "allowed: status" in bad.stderr
