"""Pure helpers of the snapshot recompute job (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from orchestration.snapshots.catalog import RecomputeRequest
from orchestration.snapshots.runs import dbt_error, dbt_vars
from orchestration.snapshots.schedules import SNAPSHOT_SCHEDULES, cron_for_minutes


@pytest.mark.parametrize(
    ("minutes", "cron"),
    [
        (1, "* * * * *"),
        (15, "*/15 * * * *"),
        (7, "*/6 * * * *"),
        (60, "0 * * * *"),
        (120, "0 */2 * * *"),
        (300, "0 */4 * * *"),
        (1440, "0 0 * * *"),
    ],
)
def test_cron_for_minutes(minutes: int, cron: str) -> None:
    assert cron_for_minutes(minutes) == cron


def test_one_schedule_per_window_with_its_interval() -> None:
    assert {s.name: s.cron_schedule for s in SNAPSHOT_SCHEDULES} == {
        "recompute_snapshots_day": "*/15 * * * *",
        "recompute_snapshots_week": "0 * * * *",
    }


def test_schedule_requests_yesterday_and_today_for_its_window() -> None:
    from datetime import UTC, datetime

    from dagster import build_schedule_context

    schedule = next(s for s in SNAPSHOT_SCHEDULES if s.name.endswith("_week"))
    context = build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 2, 0, 15, tzinfo=UTC)
    )
    request = schedule.evaluate_tick(context).run_requests[0]
    config = request.run_config["ops"]["recompute_snapshots_op"]["config"]
    assert config == {
        "date_from": "2026-03-01",
        "date_to": "2026-03-02",
        "reports": [],
        "windows": ["week"],
        "requested_by": "schedule:recompute_snapshots_week",
    }


def test_dbt_vars() -> None:
    req = RecomputeRequest(date(2026, 1, 5), date(2026, 1, 7), ("top-entities",), (), "me")
    assert dbt_vars(req, 9) == {
        "window_start": "2026-01-05",
        "window_end": "2026-01-07",
        "recompute_run_id": 9,
        "snapshot_reports": ["top-entities"],
    }


def test_dbt_error_picks_the_database_error() -> None:
    out = (
        "\x1b[0m17:18:33  1 of 1 ERROR creating sql incremental model marts.metric_snapshots\n"
        "\x1b[0m17:18:33    Database Error in model metric_snapshots (models/marts/snapshots/metric_snapshots.sql)\n"
        '\x1b[0m17:18:33    relation "raw.analytics_events" does not exist\n'
        "\x1b[0m17:18:33    compiled code at target/run/x.sql\n"
    )
    assert dbt_error(out) == (
        "Database Error in model metric_snapshots (models/marts/snapshots/metric_snapshots.sql): "
        'relation "raw.analytics_events" does not exist'
    )


def _parts_of(first: date, last: date, runs: dict, windows=("day", "week")) -> list[tuple]:
    from datetime import UTC, datetime, timedelta

    from orchestration.reader import snapshots as reader
    from orchestration.snapshots.catalog import ReportDefinition

    report = ReportDefinition(
        "top-entities", "", "", 0, "week", (), "entity_id", "dimension", (), ("events",), "events"
    )
    q = reader._Query(report, "day", first, last, "dimension", {}, 50, 0, tuple(windows))
    lo = datetime(first.year, first.month, first.day, tzinfo=UTC)
    hi = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return [(w, a.date(), b.date()) for w, a, b in reader._parts(q, runs, lo, hi)]


def _runs(first: date, last: date, week_runs: dict, day_runs: dict | None = None) -> dict:
    """Probe results: every day of first..last written by run 'r' unless day_runs says
    otherwise; week buckets (Mondays) with the runs in week_runs."""
    from datetime import UTC, datetime, timedelta

    def at(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=UTC)

    out = {}
    d = first
    while d <= last:
        out[("day", at(d))] = (day_runs or {}).get(d, "r")
        d += timedelta(days=1)
    for monday, run in week_runs.items():
        out[("week", at(monday))] = run
    return out


# 2026-03-02 is a Monday
def test_parts_weeks_inside_the_range_and_edge_days() -> None:
    first, last = date(2026, 2, 25), date(2026, 3, 24)  # Wed .. Tue
    runs = _runs(first, last, {date(2026, 3, d): "r" for d in (2, 9, 16, 23)})
    assert _parts_of(first, last, runs) == [
        ("day", date(2026, 2, 25), date(2026, 3, 2)),
        ("week", date(2026, 3, 2), date(2026, 3, 23)),  # 2, 9, 16; the 23rd's week ends after
        ("day", date(2026, 3, 23), date(2026, 3, 25)),
    ]


def test_parts_whole_weeks_and_single_days() -> None:
    first, last = date(2026, 3, 2), date(2026, 3, 15)  # Monday .. Sunday
    runs = _runs(first, last, {date(2026, 3, 2): "r", date(2026, 3, 9): "r"})
    assert _parts_of(first, last, runs) == [("week", date(2026, 3, 2), date(2026, 3, 16))]
    one = date(2026, 3, 4)
    assert _parts_of(one, one, _runs(one, one, {})) == [("day", one, date(2026, 3, 5))]


def test_parts_a_week_not_written_with_its_days_is_read_day_by_day() -> None:
    first, last = date(2026, 3, 2), date(2026, 3, 22)
    weeks = {date(2026, 3, 2): "r", date(2026, 3, 9): "newer", date(2026, 3, 16): "r"}
    assert _parts_of(first, last, _runs(first, last, weeks)) == [
        ("week", date(2026, 3, 2), date(2026, 3, 9)),
        ("day", date(2026, 3, 9), date(2026, 3, 16)),
        ("week", date(2026, 3, 16), date(2026, 3, 23)),
    ]
    # a day recomputed alone (other run) or without rows (None): its week is not used
    for day_run in ("newer", None):
        runs = _runs(first, last, dict.fromkeys(weeks, "r"), {date(2026, 3, 11): day_run})
        assert _parts_of(first, last, runs) == [
            ("week", date(2026, 3, 2), date(2026, 3, 9)),
            ("day", date(2026, 3, 9), date(2026, 3, 16)),
            ("week", date(2026, 3, 16), date(2026, 3, 23)),
        ]
    # a week without rows, or no week window in the catalog: days only
    runs = _runs(first, last, dict.fromkeys(weeks))
    assert _parts_of(first, last, runs) == [("day", first, date(2026, 3, 23))]
    runs = _runs(first, last, dict.fromkeys(weeks, "r"))
    assert _parts_of(first, last, runs, windows=("day",)) == [("day", first, date(2026, 3, 23))]


def test_plan_terms_per_block_and_part() -> None:
    from datetime import UTC, datetime, timedelta

    from orchestration.reader import snapshots as reader
    from orchestration.snapshots.catalog import ReportDefinition

    report = ReportDefinition(
        "top-entities", "", "", 0, "week", (), "entity_id", "dimension", (), ("events",), "events"
    )

    def at(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=UTC)

    # 13-week blocks from Monday 2001-01-01: 2026-08-31 starts one (91 * 106 days later)
    boundary = date(2026, 8, 31)
    assert reader._block(at(boundary + timedelta(days=90))) == at(boundary)
    assert reader._block(at(boundary - timedelta(days=1))) == at(boundary - timedelta(days=91))
    first, last = boundary - timedelta(days=21), boundary + timedelta(days=20)
    q = reader._Query(report, "week", first, last, "dimension", {}, 50, 0, ("day", "week"))
    weeks = [boundary + timedelta(days=7 * i) for i in range(-3, 3)]
    runs = {("week", at(w)): "r" for w in weeks}
    plan = reader._plan(q, runs, at(first), at(last + timedelta(days=1)))
    assert plan["scans_windows"] == []
    terms = sorted(zip(plan["term_buckets"], plan["term_through"], plan["term_signs"], strict=True))
    assert terms == [
        (at(weeks[0]), False, -1),  # -before at the first week in range of the old block
        (at(weeks[2]), True, 1),  # +through at its last
        (at(weeks[5]), True, 1),  # the new block starts at its first week: no -before
    ]
    # day window, a week in the middle written without its days: two week parts in one
    # block keep their own terms (the day part between is scanned, not counted twice)
    q = reader._Query(report, "day", first, last, "dimension", {}, 50, 0, ("day", "week"))
    runs = {("day", at(first + timedelta(days=i))): "r" for i in range(42)}
    runs |= {("week", at(w)): "r" for w in weeks}
    runs[("week", at(weeks[1]))] = "newer"
    plan = reader._plan(q, runs, at(first), at(last + timedelta(days=1)))
    assert plan["scans_windows"] == ["day"]
    assert plan["scans_los"] == [at(weeks[1])] and plan["scans_his"] == [at(weeks[2])]
    terms = sorted(zip(plan["term_buckets"], plan["term_through"], plan["term_signs"], strict=True))
    assert terms == [
        (at(weeks[0]), False, -1),
        (at(weeks[0]), True, 1),
        (at(weeks[2]), False, -1),
        (at(weeks[2]), True, 1),
        (at(weeks[5]), True, 1),
    ]


def test_parts_a_week_verified_equal_to_its_days_is_used_across_runs() -> None:
    from datetime import UTC, datetime

    first, last = date(2026, 3, 2), date(2026, 3, 15)
    weeks = {date(2026, 3, 2): "r", date(2026, 3, 9): "newer"}
    runs = _runs(first, last, weeks, {date(2026, 3, 11): "newer"})  # a one-day recompute
    assert _parts_of(first, last, runs) == [
        ("week", date(2026, 3, 2), date(2026, 3, 9)),
        ("day", date(2026, 3, 9), date(2026, 3, 16)),
    ]
    from orchestration.reader import snapshots as reader
    from orchestration.snapshots.catalog import ReportDefinition

    report = ReportDefinition(
        "top-entities", "", "", 0, "week", (), "entity_id", "dimension", (), ("events",), "events"
    )
    q = reader._Query(report, "day", first, last, "dimension", {}, 50, 0, ("day", "week"))
    lo, hi = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC)
    verified = frozenset({("week", datetime(2026, 3, 9, tzinfo=UTC))})
    assert reader._parts(q, runs, lo, hi, verified) == [("week", lo, hi)]
