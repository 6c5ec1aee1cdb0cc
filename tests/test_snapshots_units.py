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
