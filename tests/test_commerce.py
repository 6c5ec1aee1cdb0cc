"""Commerce marts (seed 003) against hand-made raw rows.

Expected values are written by hand (day offsets and counts below) or computed with
plain SQL over raw in the test - never read back from the models under test.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from conftest import execute, query

from orchestration import datagen, runtime

pytestmark = pytest.mark.slow

SELECT = ["--select", "+agg_integration_usage_daily+", "+agg_sending_stats_30d+"]


def _today() -> date:
    return datetime.now(UTC).date()


def _at(days_ago: int, hour: int, minute: int = 0) -> datetime:
    d = _today() - timedelta(days=days_ago)
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=UTC)


# shop -> (integration days ago, hour), its orders as (days ago, hour)
SHOPS = {
    1: (10, 15),  # idle days between its orders
    2: (0, 0),  # created today: no rows yet (usage runs through yesterday)
    3: (5, 23),  # integration late in the day; its date moves earlier later on
}
ORDERS = {
    1: [(10, 16), (10, 23), (7, 0), (3, 12), (3, 12), (3, 23), (0, 0)],
    2: [(0, 0)],
    3: [(5, 23), (1, 0), (1, 23)],
}


def _build(*extra: str) -> None:
    runtime.run_dbt(["build", *SELECT, *extra], capture=True, quiet=True)


def _usage(url: str) -> dict[tuple[int, date], tuple[int, str]]:
    rows = query(
        url, "select shop_id, day, orders_count, run_id from marts.agg_integration_usage_daily"
    )
    return {(s, d): (n, r) for s, d, n, r in rows}


def _expected(shop: int, first_days_ago: int) -> dict[date, int]:
    """Hand-computed: every day from the integration day through yesterday, zero-filled."""
    counts = {_today() - timedelta(days=k): 0 for k in range(1, first_days_ago + 1)}
    for days_ago, _ in ORDERS[shop]:
        day = _today() - timedelta(days=days_ago)
        if day in counts:
            counts[day] += 1
    return counts


@pytest.fixture(scope="module")
def url(tally_db: str) -> str:
    if datetime.now(UTC).hour == 23 and datetime.now(UTC).minute >= 55:
        pytest.skip("too close to UTC midnight for day-relative expectations")
    with psycopg.connect(tally_db) as conn:
        datagen.create_raw_schema(conn)
        with conn.cursor() as cur:
            for shop, (ago, hour) in SHOPS.items():
                cur.execute(
                    "insert into raw.shops (id, account_id, platform, integration_created_at, updated_at)"
                    " values (%s, %s, 'shopify', %s, now())",
                    (shop, 100 + shop, _at(ago, hour)),
                )
            for shop, orders in ORDERS.items():
                for ago, hour in orders:
                    cur.execute(
                        "insert into raw.orders (shop_id, total, created_at, updated_at)"
                        " values (%s, 10, %s, now() - interval '1 hour')",
                        (shop, _at(ago, hour)),
                    )
            emails = [  # account, category, days ago
                (1, "automation", 1),
                (1, "automation", 29),
                (1, "campaign", 2),
                (1, "transactional", 3),
                (1, "automation", 31),  # 31 days: outside
                (2, "campaign", 0),
                (2, "newsletter", 4),
                (2, None, 5),  # unknown -> other
                (3, "transactional", 45),  # only old email: no row
            ]
            for account, category, ago in emails:
                cur.execute(
                    "insert into raw.emails (account_id, category, sent_at, updated_at)"
                    " values (%s, %s, now() - %s * interval '1 day' - interval '1 minute', now())",
                    (account, category, ago),
                )
        conn.commit()
    _build()
    return tally_db


def test_gap_filled_through_yesterday(url: str) -> None:
    usage = _usage(url)
    for shop, first in ((1, 10), (3, 5)):
        got = {d: n for (s, d), (n, _) in usage.items() if s == shop}
        assert got == _expected(shop, first)
    # idle days are rows with 0, not missing rows
    assert usage[(1, _today() - timedelta(days=9))][0] == 0
    # the shop created today has no rows, and nobody has a row for today
    assert not [k for k in usage if k[0] == 2]
    assert not [k for k in usage if k[1] >= _today()]
    attrs = query(
        url,
        "select distinct account_id, platform from marts.agg_integration_usage_daily where shop_id = 1",
    )
    assert attrs == [(101, "shopify")]


def test_incremental_late_orders_and_moved_integration(url: str) -> None:
    before = _usage(url)
    # a late order for an old day, a deleted old order, and shop 3's integration date
    # moving three days earlier (with an order on one of its new days)
    execute(
        url,
        "insert into raw.orders (shop_id, total, created_at, updated_at) values (1, 5, %s, now())",
        (_at(7, 9),),
    )
    execute(url, "delete from raw.orders where shop_id = 1 and created_at = %s", (_at(10, 23),))
    execute(
        url,
        "update raw.shops set integration_created_at = %s, updated_at = now() where id = 3",
        (_at(8, 6),),
    )
    execute(
        url,
        "insert into raw.orders (shop_id, total, created_at, updated_at) values (3, 5, %s, now())",
        (_at(7, 1),),
    )
    ORDERS[1].append((7, 9))
    ORDERS[1].remove((10, 23))
    ORDERS[3].append((7, 1))
    _build()
    after = _usage(url)

    assert {d: n for (s, d), (n, _) in after.items() if s == 1} == _expected(1, 10)
    assert {d: n for (s, d), (n, _) in after.items() if s == 3} == _expected(3, 8)
    day7, day10 = _today() - timedelta(days=7), _today() - timedelta(days=10)
    assert after[(1, day7)][0] == 2 and after[(1, day10)][0] == 1
    # the changed days were recomputed; shop 1's other complete days were not
    assert after[(1, day7)][1] != before[(1, day7)][1]
    assert after[(1, day10)][1] != before[(1, day10)][1]
    untouched = [d for (s, d) in before if s == 1 and d not in (day7, day10)]
    assert untouched and all(after[(1, d)][1] == before[(1, d)][1] for d in untouched)
    # the reconciliation check (a from-scratch aggregate of raw) agrees
    results = json.loads((runtime.TARGET_DIR / "run_results.json").read_text())["results"]
    status = {r["unique_id"].split(".")[2]: r["status"] for r in results}
    assert status["assert_commerce_integration_usage_reconciles"] == "pass"


def test_sending_stats_equal_direct_counts(url: str) -> None:
    got = {
        r[0]: r[1:]
        for r in query(
            url,
            "select account_id, emails_30d, automation_emails_30d, campaign_emails_30d,"
            " transactional_emails_30d, other_emails_30d from marts.agg_sending_stats_30d",
        )
    }
    # hand-computed from the rows inserted in the fixture
    assert got == {1: (4, 2, 1, 1, 0), 2: (3, 0, 1, 0, 2)}
    # and against a direct count of raw in SQL
    direct = dict(
        query(
            url,
            "select account_id, count(*) from raw.emails"
            " where sent_at >= now() - interval '30 days' group by 1",
        )
    )
    assert {a: v[0] for a, v in got.items()} == direct
    results = json.loads((runtime.TARGET_DIR / "run_results.json").read_text())["results"]
    status = {r["unique_id"].split(".")[2]: r["status"] for r in results}
    assert status["assert_commerce_email_categories_known"] == "warn"
    assert status["assert_commerce_sending_stats_reconciles"] == "pass"


def test_sending_stats_rebuild_never_empty_for_readers(url: str) -> None:
    seen: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    seen.append(
                        conn.execute("select count(*) from marts.agg_sending_stats_30d").fetchone()[
                            0
                        ]
                    )
                except psycopg.Error as exc:
                    errors.append(str(exc).splitlines()[0])
                time.sleep(0.002)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(2):
            runtime.run_dbt(["run", "--select", "agg_sending_stats_30d"], capture=True, quiet=True)
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert len(seen) > 20 and set(seen) == {2}


def test_feature_flags_switch_schedules_off(tally_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.ensure_manifest()
    from dagster import DefaultScheduleStatus

    from orchestration.commerce import schedules
    from orchestration.definitions import defs

    usage = defs.resolve_schedule_def("commerce_integration_usage_daily")
    assert (usage.cron_schedule, usage.execution_timezone) == ("0 4 * * *", "UTC")
    assert defs.resolve_schedule_def("commerce_sending_stats_weekly").cron_schedule == "0 5 * * 1"

    monkeypatch.delenv("TALLY_INTEGRATION_USAGE_ENABLED", raising=False)
    monkeypatch.setenv("TALLY_SENDING_STATS_ENABLED", "true")
    assert schedules.integration_usage_schedule().default_status == DefaultScheduleStatus.RUNNING
    monkeypatch.setenv("TALLY_INTEGRATION_USAGE_ENABLED", "false")
    assert schedules.integration_usage_schedule().default_status == DefaultScheduleStatus.STOPPED
    assert schedules.sending_stats_schedule().default_status == DefaultScheduleStatus.RUNNING
    monkeypatch.setenv("TALLY_SENDING_STATS_ENABLED", "0")
    assert schedules.sending_stats_schedule().default_status == DefaultScheduleStatus.STOPPED


def test_catches_up_from_last_processed_day(url: str) -> None:
    """Runs missed for two days: the next run fills exactly the days since its watermark."""
    before = _usage(url)
    two_days, yesterday = _today() - timedelta(days=2), _today() - timedelta(days=1)
    with psycopg.connect(url) as conn:
        conn.execute("set local tally.capture = 'off'")  # an old, already-seen history
        conn.execute("update raw.orders set updated_at = now() - interval '5 days'")
        conn.execute("update raw.shops set updated_at = now() - interval '5 days'")
        conn.execute("delete from ops.raw_changes where table_name = 'orders'")
        conn.execute("delete from marts.agg_integration_usage_daily where day >= %s", (two_days,))
        conn.execute(
            "update ops.aggregation_progress set watermark = now() - interval '2 days'"
            " where mart = 'agg_integration_usage_daily'"
        )
    _build()
    after = _usage(url)
    for shop, first in ((1, 10), (3, 8)):
        assert {d: n for (s, d), (n, _) in after.items() if s == shop} == _expected(shop, first)
    assert after[(3, yesterday)][0] == 2
    # the days before the watermark were not recomputed
    older = [k for k in before if k[1] < two_days]
    assert older and all(after[k][1] == before[k][1] for k in older)
