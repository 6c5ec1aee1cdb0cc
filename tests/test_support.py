"""Support rollups (seed 002) end to end on a real PostgreSQL.

One module database: datagen's support domain (scale 0.05) plus hand-made accounts
whose expected values are computed by hand (DST days in America/New_York, +05:45
Kathmandu, +10:30/+09:30 Adelaide, distinct handoffs across days and inboxes, an
account without a timezone, one with an invalid timezone). Elsewhere the expected
rollup is computed in Python from raw rows with zoneinfo - independent of the SQL
under test. Tests run in file order (the mutation rounds come last).
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
import pytest
from conftest import execute, query, run_tally
from support_threads_expected import expected_thread_rollup

from orchestration import datagen, runtime
from orchestration.errors import TallyError
from orchestration.reader.connection import reader_connection
from orchestration.reader.support import (
    period_start,
    periods_between,
    support_report,
    support_summary,
)

ROOT = Path(__file__).resolve().parent.parent
REGISTRY_ROWS = list(csv.DictReader((ROOT / "seeds" / "metric_registry.csv").open()))
METRICS = sorted({r["metric"] for r in REGISTRY_ROWS})
# the default summary: Chatwoot's agents page (conversations, resolutions and average
# resolution time, average first response time, average reply time)
AGENTS_PAGE = sorted(["conversations_count", "resolutions", "first_response", "reply_time"])
# the rolled-up metrics per event name ('events_excluding_bot_handoffs' is read from raw)
REGISTRY: dict[str, list[tuple[str, str]]] = defaultdict(list)
for _r in REGISTRY_ROWS:
    if _r["count_kind"] in ("events", "distinct_conversations"):
        REGISTRY[_r["event_name"]].append((_r["metric"], _r["count_kind"]))
ROLLED_METRICS = sorted({m for pairs in REGISTRY.values() for m, _ in pairs})

pytestmark = pytest.mark.slow

# --------------------------------------------------------------------------- hand-made data

HAND_ACCOUNTS = [
    (9001, "NY", "America/New_York"),
    (9002, "Kathmandu", "Asia/Kathmandu"),
    (9003, "Adelaide", "Australia/Adelaide"),
    (9004, "Handoffs", "UTC"),
    (9005, "No timezone", None),
    (9009, "Typo", "Mars/Olympus"),
]
HAND_AGENTS = [(9101, 9001), (9104, 9004), (9105, 9004)]  # 9105: no activity
HAND_INBOXES = [(9101, 9001), (9141, 9004), (9142, 9004)]
# account, name, value, user, inbox, conversation, created_at (UTC)
HAND_EVENTS = [
    # New York, spring forward 2025-03-09: local day = [05:00Z, next day 04:00Z)
    (9001, "conversation_resolved", 10, 9101, None, 1, "2025-03-09 04:59:59"),
    (9001, "conversation_resolved", 20, 9101, None, 2, "2025-03-09 05:00:00"),
    (9001, "conversation_resolved", 30, 9101, None, 3, "2025-03-10 03:59:59"),
    (9001, "conversation_resolved", 40, 9101, None, 4, "2025-03-10 04:00:00"),
    # New York, fall back 2025-11-02: local day = [04:00Z, next day 05:00Z)
    (9001, "conversation_resolved", 1, 9101, None, 5, "2025-11-02 03:59:59"),
    (9001, "conversation_resolved", 2, 9101, None, 6, "2025-11-02 04:00:00"),
    (9001, "conversation_resolved", 4, 9101, None, 7, "2025-11-03 04:30:00"),
    (9001, "conversation_resolved", 8, 9101, None, 8, "2025-11-03 05:00:00"),
    (9001, "conversation_opened", 0, 9101, None, 9, "2025-03-09 06:00:00"),  # not registered
    # hourly: 01:59:59 EST and 03:00 EDT on the 23-hour day; the repeated 01:00 hour of
    # the 25-hour day, once in EDT (05:30Z) and twice in EST (06:30Z, 06:45Z)
    (9001, "first_response", 11, 9101, None, 10, "2025-03-09 06:59:59"),
    (9001, "first_response", 13, 9101, None, 11, "2025-03-09 07:00:00"),
    (9001, "first_response", 3, 9101, None, 12, "2025-11-02 05:30:00"),
    (9001, "first_response", 5, 9101, None, 13, "2025-11-02 06:30:00"),
    (9001, "first_response", 7, 9101, None, 14, "2025-11-02 06:45:00"),
    # Kathmandu +05:45: local day D = [D-1 18:15Z, D 18:15Z)
    (9002, "first_response", 100, None, None, 20, "2025-06-14 18:14:59"),
    (9002, "first_response", 200, None, None, 21, "2025-06-14 18:15:00"),
    # Adelaide +10:30 in January, +09:30 in July; 2025-04-06 is 25 hours long
    (9003, "reply_time", 5, None, None, 30, "2025-01-15 13:29:59"),
    (9003, "reply_time", 7, None, None, 31, "2025-01-15 13:30:00"),
    (9003, "reply_time", 17, None, None, 32, "2025-04-06 14:29:59"),
    (9003, "reply_time", 19, None, None, 33, "2025-04-06 14:30:00"),
    (9003, "reply_time", 11, None, None, 34, "2025-07-15 14:29:59"),
    (9003, "reply_time", 13, None, None, 35, "2025-07-15 14:30:00"),
    # UTC: conversation 501 handed off three times over two days and two inboxes
    (9004, "conversation_bot_handoff", 0, None, 9141, 501, "2025-06-03 10:00:00"),
    (9004, "conversation_bot_handoff", 0, None, 9141, 501, "2025-06-03 11:00:00"),
    (9004, "conversation_bot_handoff", 0, None, 9142, 501, "2025-06-04 09:00:00"),
    (9004, "conversation_bot_handoff", 0, 9104, 9142, 502, "2025-06-03 12:00:00"),
    (9004, "conversation_resolved", 60, 9104, 9141, 503, "2025-06-05 08:00:00"),
    # bot resolutions: 501 was handed off (above), 504 not (yet)
    (9004, "conversation_bot_resolved", 0, None, 9141, 501, "2025-06-05 10:00:00"),
    (9004, "conversation_bot_resolved", 0, None, 9141, 504, "2025-06-05 11:00:00"),
    # no timezone: raw path in UTC (or a requested zone)
    (9005, "conversation_resolved", 3, None, None, 601, "2025-06-03 23:30:00"),
    (9005, "conversation_resolved", 5, None, None, 602, "2025-06-04 00:30:00"),
    # invalid timezone: skipped, named by a failing check
    (9009, "conversation_resolved", 1, None, None, 901, "2025-06-03 12:00:00"),
]


def _insert_hand_data(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for acc, name, tz in HAND_ACCOUNTS:
            conn.execute(
                "insert into raw.accounts (id, name, reporting_timezone, updated_at)"
                " values (%s, %s, %s, now())",
                (acc, name, tz),
            )
        for agent, acc in HAND_AGENTS:
            conn.execute(
                "insert into raw.agents (id, account_id, name, updated_at) values (%s, %s, %s, now())",
                (agent, acc, f"agent {agent}"),
            )
        for inbox, acc in HAND_INBOXES:
            conn.execute(
                "insert into raw.inboxes (id, account_id, name, channel_type, updated_at)"
                " values (%s, %s, %s, 'email', now())",
                (inbox, acc, f"inbox {inbox}"),
            )
        for acc, name, value, user, inbox, conv, ts in HAND_EVENTS:
            conn.execute(
                "insert into raw.reporting_events (account_id, name, value, value_in_business_hours,"
                " user_id, inbox_id, conversation_id, event_start_time, event_end_time, created_at,"
                " updated_at) values (%s, %s, %s, %s, %s, %s, %s, %s::timestamptz, %s::timestamptz,"
                " %s::timestamptz, now())",
                (
                    acc,
                    name,
                    value,
                    value / 2,
                    user,
                    inbox,
                    conv,
                    ts + "+00",
                    ts + "+00",
                    ts + "+00",
                ),
            )


# --------------------------------------------------------------------------- independent expectation


def expected_rollup(url: str, accounts: set[int] | None = None) -> dict[tuple, tuple]:
    """The rollup computed in Python from raw rows (zoneinfo day buckets, per dimension)."""
    zones = {}
    for acc, tz in query(url, "select id, reporting_timezone from raw.accounts"):
        if tz is None or (accounts is not None and acc not in accounts):
            continue
        try:
            zones[acc] = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    # issue 18: an event's team is its conversation's (of the same account), as raw holds it
    teams = {
        (acc, cid): team
        for cid, acc, team in query(url, "select id, account_id, team_id from raw.conversations")
    }
    sums: dict[tuple, list] = defaultdict(lambda: [0, 0.0, 0.0])
    convs: dict[tuple, set] = defaultdict(set)
    rows = query(
        url,
        "select account_id, name, value, value_in_business_hours, user_id, inbox_id,"
        " conversation_id, created_at from raw.reporting_events",
    )
    for acc, name, value, bh, user, inbox, conv, ts in rows:
        if acc not in zones or name not in REGISTRY:
            continue
        day = ts.astimezone(zones[acc]).date()
        for metric, kind in REGISTRY[name]:
            team = teams.get((acc, conv))
            for dim, dim_id in (
                ("account", acc),
                ("agent", user),
                ("inbox", inbox),
                ("team", team),
            ):
                if dim_id is None:
                    continue
                key = (acc, day, dim, dim_id, metric)
                if kind == "distinct_conversations":
                    convs[key].update([conv] if conv is not None else [])
                else:
                    c = sums[key]
                    c[0] += 1
                    c[1] += value or 0.0
                    c[2] += bh or 0.0
    out = {key: (n, s, b) for key, (n, s, b) in sums.items()}
    out.update({key: (len(c), 0.0, 0.0) for key, c in convs.items()})
    # issue 18: conversations and messages (tests/support_threads_expected.py)
    out.update({k: v for k, v in expected_thread_rollup(url).items() if k[0] in zones})
    return out


def stored_rollup(url: str, accounts: set[int] | None = None) -> dict[tuple, tuple]:
    rows = query(
        url,
        "select account_id, day_bucket, dimension_type, dimension_id, metric, count, sum_value,"
        " sum_value_business_hours from marts.agg_support_rollup_daily",
    )
    return {tuple(r[:5]): (r[5], r[6], r[7]) for r in rows if accounts is None or r[0] in accounts}


def assert_rollup_matches(url: str, accounts: set[int] | None = None) -> None:
    expected, stored = expected_rollup(url, accounts), stored_rollup(url, accounts)
    missing = sorted(set(expected) - set(stored))[:5]
    extra = sorted(set(stored) - set(expected))[:5]
    assert not missing and not extra, f"missing {missing}, extra {extra}"
    for key, (n, s, b) in expected.items():
        got = stored[key]
        assert got[0] == n, (key, got, (n, s, b))
        assert got[1] == pytest.approx(s, rel=1e-9, abs=1e-6), key
        assert got[2] == pytest.approx(b, rel=1e-9, abs=1e-6), key


def tick() -> None:
    runtime.run_dbt(["build", "--select", "agg_support_rollup_daily"], capture=True, quiet=True)


# --------------------------------------------------------------------------- fixture


@pytest.fixture(scope="module")
def url(tally_db: str) -> str:
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.05, seed=7, domains=["support"])
    _insert_hand_data(tally_db)
    proc = runtime.run_dbt(
        ["build", "--select", "+agg_support_rollup_daily", "tag:support"], check=False, capture=True
    )
    results = json.loads((runtime.TARGET_DIR / "run_results.json").read_text())
    status = {r["unique_id"].split(".")[-1]: r for r in results["results"]}
    assert status["agg_support_rollup_daily"]["status"] == "success", proc.stdout[-3000:]
    # the invalid timezone fails its check (and only that); the others proceed
    bad = status["assert_support_account_timezones_valid"]
    assert (bad["status"], bad["failures"]) == ("fail", 1)
    assert status["assert_support_accounts_not_rolled_up"]["status"] == "warn"
    assert status["assert_support_rollup_reconciles"]["status"] == "pass"
    failed = [k for k, r in status.items() if r["status"] in ("fail", "error")]
    assert failed == ["assert_support_account_timezones_valid"], failed
    return tally_db


# --------------------------------------------------------------------------- write path


def test_first_build_equals_independent_rollup(url):
    assert_rollup_matches(url)


def test_invalid_timezone_is_skipped_and_named(url):
    assert query(
        url, "select count(*) from marts.agg_support_rollup_daily where account_id in (9005, 9009)"
    ) == [(0,)]
    named = query(
        url,
        "select account_id, reporting_timezone from staging.stg_support__accounts where timezone is null",
    )
    assert named == [(9009, "Mars/Olympus")]


def _rows(url: str, account: int, metric: str, dim: str = "account", dim_id: int | None = None):
    return {
        r[0]: (r[1], r[2])
        for r in query(
            url,
            "select day_bucket, count, sum_value from marts.agg_support_rollup_daily"
            " where account_id = %s and metric = %s and dimension_type = %s and dimension_id = %s"
            " order by 1",
            (account, metric, dim, dim_id if dim_id is not None else account),
        )
    }


def test_dst_days_in_new_york(url):
    d = date
    assert _rows(url, 9001, "resolutions") == {
        d(2025, 3, 8): (1, 10.0),
        d(2025, 3, 9): (2, 50.0),  # 23-hour day
        d(2025, 3, 10): (1, 40.0),
        d(2025, 11, 1): (1, 1.0),
        d(2025, 11, 2): (2, 6.0),  # 25-hour day
        d(2025, 11, 3): (1, 8.0),
    }
    # agent dimension = user_id; no inbox rows (inbox_id NULL skips that dimension)
    assert _rows(url, 9001, "resolutions", "agent", 9101) == _rows(url, 9001, "resolutions")
    assert query(
        url,
        "select count(*) from marts.agg_support_rollup_daily where account_id = 9001 and dimension_type = 'inbox'",
    ) == [(0,)]


def test_quarter_and_half_hour_zones(url):
    d = date
    assert _rows(url, 9002, "first_response") == {
        d(2025, 6, 14): (1, 100.0),
        d(2025, 6, 15): (1, 200.0),
    }
    assert _rows(url, 9003, "reply_time") == {
        d(2025, 1, 15): (1, 5.0),
        d(2025, 1, 16): (1, 7.0),
        d(2025, 4, 6): (1, 17.0),
        d(2025, 4, 7): (1, 19.0),
        d(2025, 7, 15): (1, 11.0),
        d(2025, 7, 16): (1, 13.0),
    }


def test_distinct_handoffs_per_dimension(url):
    d3, d4 = date(2025, 6, 3), date(2025, 6, 4)
    assert _rows(url, 9004, "bot_handoffs") == {d3: (2, 0.0), d4: (1, 0.0)}
    assert _rows(url, 9004, "bot_handoffs", "inbox", 9141) == {d3: (1, 0.0)}
    assert _rows(url, 9004, "bot_handoffs", "inbox", 9142) == {d3: (1, 0.0), d4: (1, 0.0)}
    assert _rows(url, 9004, "bot_handoffs", "agent", 9104) == {d3: (1, 0.0)}


# --------------------------------------------------------------------------- read path


def test_period_math():
    wed = date(2025, 6, 4)
    assert period_start(wed, "week") == date(2025, 6, 1)  # Sunday, as Chatwoot
    assert period_start(wed, "week", "monday") == date(2025, 6, 2)
    assert period_start(wed, "month") == date(2025, 6, 1)
    assert period_start(wed, "year") == date(2025, 1, 1)
    assert periods_between(date(2025, 1, 31), date(2025, 3, 1), "month") == [
        date(2025, 1, 1),
        date(2025, 2, 1),
        date(2025, 3, 1),
    ]
    assert len(periods_between(date(2025, 6, 1), date(2025, 6, 7), "day")) == 7


def test_report_distinct_handoffs_over_a_week_and_month(url):
    for group_by in ("week", "month"):
        r = support_report(
            9004, "bot_handoffs", date(2025, 6, 1), date(2025, 6, 7), group_by=group_by
        )
        assert [p.count for p in r.periods] == [2]  # not 2 + 1 summed from days
        assert r.source == "raw" and "distinct" in r.fallback_reason
    r = support_report(
        9004,
        "bot_handoffs",
        date(2025, 6, 1),
        date(2025, 6, 7),
        group_by="week",
        dimension="inbox",
        dimension_id=9142,
    )
    assert r.count == 2
    r = support_report(9004, "bot_handoffs", date(2025, 6, 3), date(2025, 6, 4))
    assert r.source == "rollup" and [p.count for p in r.periods] == [2, 1]


def test_report_zero_fills_periods(url):
    r = support_report(9004, "resolutions", date(2025, 6, 1), date(2025, 6, 7))
    assert r.source == "rollup"
    assert [p.period_start for p in r.periods] == [
        date(2025, 6, 1) + timedelta(days=i) for i in range(7)
    ]
    assert [p.count for p in r.periods] == [0, 0, 0, 0, 1, 0, 0]
    assert [p.average for p in r.periods] == [None] * 4 + [60.0] + [None] * 2
    assert r.average == 60.0
    r = support_report(9004, "resolutions", date(2025, 6, 1), date(2025, 6, 7), business_hours=True)
    assert r.sum == 30.0


def test_report_average_is_ratio_of_sums(url):
    r = support_report(9001, "resolutions", date(2025, 11, 1), date(2025, 11, 30), group_by="month")
    assert (r.count, r.sum) == (4, 15.0)
    assert r.periods[0].average == 3.75  # (1+2+4+8)/4, not the mean of daily means 1, 3, 8 (4.0)


def test_fallbacks_give_the_same_answer(url):
    # no timezone: raw, UTC
    r = support_report(9005, "resolutions", date(2025, 6, 3), date(2025, 6, 4))
    assert r.source == "raw" and "timezone" in r.fallback_reason and r.timezone == "UTC"
    assert [(p.count, p.sum) for p in r.periods] == [(1, 3.0), (1, 5.0)]
    r = support_report(
        9005, "resolutions", date(2025, 6, 3), date(2025, 6, 4), timezone="Asia/Kolkata"
    )
    assert [(p.count, p.sum) for p in r.periods] == [(0, 0.0), (2, 8.0)]
    # requested timezone differs from the account's
    r = support_report(9001, "resolutions", date(2025, 3, 9), date(2025, 3, 10), timezone="UTC")
    assert r.source == "raw" and "differs" in r.fallback_reason
    assert [(p.count, p.sum) for p in r.periods] == [(2, 30.0), (2, 70.0)]
    # the account's own timezone spelled out: rollup
    r = support_report(
        9001, "resolutions", date(2025, 3, 9), date(2025, 3, 10), timezone="America/New_York"
    )
    assert r.source == "rollup" and [(p.count, p.sum) for p in r.periods] == [(2, 50.0), (1, 40.0)]
    # a raw event name that is not in the registry
    r = support_report(9001, "conversation_opened", date(2025, 3, 8), date(2025, 3, 10))
    assert r.source == "raw" and "registry" in r.fallback_reason
    assert [p.count for p in r.periods] == [0, 1, 0]


def test_rollup_path_equals_raw_path_everywhere(url):
    acc = 1
    (agent,) = query(
        url,
        "select user_id from raw.reporting_events where account_id = %s and user_id is not null group by 1 order by count(*) desc limit 1",
        (acc,),
    )[0]
    (inbox,) = query(
        url,
        "select inbox_id from raw.reporting_events where account_id = %s and inbox_id is not null group by 1 order by count(*) desc limit 1",
        (acc,),
    )[0]
    (team,) = query(
        url,
        "select c.team_id from raw.reporting_events e join raw.conversations c"
        " on c.id = e.conversation_id and c.account_id = e.account_id where e.account_id = %s"
        " and c.team_id is not null group by 1 order by count(*) desc limit 1",
        (acc,),
    )[0]
    end = date.today()
    start = end - timedelta(days=120)
    compared = 0
    for metric in ROLLED_METRICS:
        for dim, dim_id in (("account", None), ("agent", agent), ("inbox", inbox), ("team", team)):
            for group_by in ("day", "week", "month", "year"):
                for bh in (False, True):
                    kw = dict(
                        group_by=group_by, dimension=dim, dimension_id=dim_id, business_hours=bh
                    )
                    auto = support_report(acc, metric, start, end, **kw)
                    raw = support_report(acc, metric, start, end, source="raw", **kw)
                    assert raw.source == "raw"
                    if not (metric == "bot_handoffs" and group_by != "day"):
                        assert auto.source == "rollup", auto.fallback_reason
                    assert [p.period_start for p in auto.periods] == [
                        p.period_start for p in raw.periods
                    ]
                    assert [p.count for p in auto.periods] == [p.count for p in raw.periods], (
                        metric,
                        dim,
                        group_by,
                    )
                    assert [p.sum for p in auto.periods] == pytest.approx(
                        [p.sum for p in raw.periods], rel=1e-9
                    )
                    compared += 1
    assert compared == len(ROLLED_METRICS) * 4 * 4 * 2
    # and both equal the independent expectation (monthly resolutions of the account)
    expected = expected_rollup(url, {acc})
    r = support_report(acc, "resolutions", start, end, group_by="month")
    for p in r.periods:
        n = sum(
            v[0]
            for k, v in expected.items()
            if k[2] == "account"
            and k[4] == "resolutions"
            and start <= k[1] <= end
            and period_start(k[1], "month") == p.period_start
        )
        assert p.count == n


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(account_id=9001, metric="nope"), "unknown metric"),
        (dict(account_id=9001, metric="resolutions", dimension="shift"), "unknown dimension"),
        (
            dict(account_id=9001, metric="resolutions", dimension="agent", dimension_id=9104),
            "belongs to account 9004",
        ),
        (dict(account_id=9001, metric="resolutions", dimension="agent"), "needs an id"),
        (dict(account_id=9001, metric="resolutions", timezone="Mars/Olympus"), "unknown timezone"),
        (dict(account_id=424242, metric="resolutions"), "does not exist"),
        (dict(account_id=9001, metric="resolutions", group_by="decade"), "unknown grouping"),
    ],
)
def test_bad_input_is_one_clear_error(url, kwargs, message):
    with pytest.raises(TallyError, match=message):
        support_report(start=date(2025, 3, 1), end=date(2025, 3, 31), **kwargs)


def test_cli_report(url):
    proc = run_tally(
        "report",
        "support",
        "--account",
        "9004",
        "--metric",
        "bot_handoffs",
        "--start",
        "2025-06-01",
        "--end",
        "2025-06-07",
        "--group-by",
        "week",
        "--json",
        url=url,
        check=True,
    )
    out = json.loads(proc.stdout)
    assert out["source"] == "raw" and out["periods"] == [
        {"period_start": "2025-06-01", "count": 2, "sum": 0.0, "average": 0.0}
    ]
    proc = run_tally(
        "report",
        "support",
        "--account",
        "9001",
        "--metric",
        "nope",
        "--start",
        "2025-06-01",
        "--end",
        "2025-06-07",
        url=url,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "unknown metric" in proc.stderr


# --------------------------------------------------------------------------- bot resolutions


def test_bot_resolutions_rule_excluding_handoffs(url):
    june = (date(2025, 6, 1), date(2025, 6, 30))
    # Tally's bot_resolutions counts every bot resolution (handed off or not), from the rollup
    r = support_report(9004, "bot_resolutions", *june, group_by="month")
    assert (r.source, r.count) == ("rollup", 2)
    # the registry's other rule (Chatwoot's :exclude_bot_handoffs), always from raw
    x = support_report(9004, "bot_resolutions_excluding_handoffs", *june, group_by="month")
    assert x.source == "raw" and "handed off" in x.fallback_reason
    assert x.count == 1  # 504 only
    day = support_report(
        9004, "bot_resolutions_excluding_handoffs", date(2025, 6, 5), date(2025, 6, 5),
        dimension="inbox", dimension_id=9141,
    )  # fmt: skip
    assert day.count == 1
    assert query(
        url,
        "select count(*) from marts.agg_support_rollup_daily"
        " where metric = 'bot_resolutions_excluding_handoffs'",
    ) == [(0,)]
    s = support_summary(9004, "inbox", *june, metrics=["bot_resolutions_excluding_handoffs"])
    assert s.sources == {"bot_resolutions_excluding_handoffs": "raw"}
    got = {m.dimension_id: m.metrics["bot_resolutions_excluding_handoffs"].count for m in s.members}
    assert got == {9141: 1, 9142: 0}
    # a handoff of 504 two weeks later changes the past day
    execute(
        url,
        "insert into raw.reporting_events (account_id, name, value, inbox_id, conversation_id,"
        " created_at, updated_at) values (9004, 'conversation_bot_handoff', 0, 9142, 504,"
        " '2025-07-20 10:00+00', now())",
    )
    x = support_report(9004, "bot_resolutions_excluding_handoffs", *june, group_by="month")
    assert x.count == 0
    assert support_report(9004, "bot_resolutions", *june, group_by="month").count == 2


# --------------------------------------------------------------------------- hourly (raw)


def _utc(ts: str) -> datetime:
    return datetime.fromisoformat(ts).replace(tzinfo=UTC)


def test_hourly_across_new_york_dst(url):
    spring = support_report(
        9001, "first_response", date(2025, 3, 9), date(2025, 3, 9), group_by="hour"
    )
    assert spring.source == "raw" and "hourly" in spring.fallback_reason
    assert len(spring.periods) == 23  # 02:00 does not exist
    starts = [p.period_start.astimezone(UTC) for p in spring.periods]
    assert starts[0] == _utc("2025-03-09 05:00") and starts[-1] == _utc("2025-03-10 03:00")
    assert starts[2] == _utc("2025-03-09 07:00")  # 03:00 EDT follows 01:00 EST
    hit = {p.period_start.astimezone(UTC): (p.count, p.sum) for p in spring.periods if p.count}
    assert hit == {_utc("2025-03-09 06:00"): (1, 11.0), _utc("2025-03-09 07:00"): (1, 13.0)}

    fall = support_report(
        9001, "first_response", date(2025, 11, 2), date(2025, 11, 2), group_by="hour"
    )
    assert len(fall.periods) == 25  # 01:00 twice: EDT (05:00Z) and EST (06:00Z)
    ones = [p for p in fall.periods if p.period_start.hour == 1]
    assert [p.period_start.astimezone(UTC) for p in ones] == [
        _utc("2025-11-02 05:00"),
        _utc("2025-11-02 06:00"),
    ]
    assert [(p.count, p.sum, p.average) for p in ones] == [(1, 3.0, 3.0), (2, 12.0, 6.0)]
    assert fall.count == 3
    # the day's first and last hours (00:00 EDT, 23:00 EST)
    res = support_report(9001, "resolutions", date(2025, 11, 2), date(2025, 11, 2), group_by="hour")
    assert [p.count for p in res.periods] == [1] + [0] * 23 + [1]
    assert res.periods[-1].period_start.astimezone(UTC) == _utc("2025-11-03 04:00")
    # +05:45: local hours start at :15 UTC
    ktm = support_report(
        9002, "first_response", date(2025, 6, 15), date(2025, 6, 15), group_by="hour"
    )
    assert len(ktm.periods) == 24
    assert ktm.periods[0].period_start.astimezone(UTC) == _utc("2025-06-14 18:15")
    assert [p.count for p in ktm.periods] == [1] + [0] * 23


def test_hourly_adds_up_to_days(url):
    end = date.today()
    start = end - timedelta(days=6)
    with reader_connection() as conn:
        for metric in METRICS:
            hourly = support_report(1, metric, start, end, group_by="hour", conn=conn)
            daily = support_report(1, metric, start, end, source="raw", conn=conn)
            by_day = defaultdict(int)
            for p in hourly.periods:
                by_day[p.period_start.date()] += p.count
            if metric != "bot_handoffs":  # distinct per hour does not add up to a day
                assert [by_day[p.period_start] for p in daily.periods] == [
                    p.count for p in daily.periods
                ], metric
            assert hourly.sum == pytest.approx(daily.sum)


def test_hourly_range_is_bounded(url):
    support_report(9001, "resolutions", date(2025, 3, 1), date(2025, 3, 31), group_by="hour")
    with pytest.raises(TallyError, match="more than 31; narrow it or group by day"):
        support_report(9001, "resolutions", date(2025, 3, 1), date(2025, 4, 1), group_by="hour")
    proc = run_tally(
        "report", "support", "--account", "9001", "--metric", "resolutions", "--start",
        "2025-03-01", "--end", "2025-05-01", "--group-by", "hour", url=url,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "31" in proc.stderr


# --------------------------------------------------------------------------- summary reports


class CountingConnection:
    """A reader connection that records every statement the reader executes."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn, self.statements = conn, []

    def execute(self, sql, params=None):
        self.statements.append(sql)
        return self.conn.execute(sql, params)


def test_summary_hand_computed_with_idle_agent(url):
    s = support_summary(9004, "agent", date(2025, 6, 1), date(2025, 6, 30), metrics="all")
    assert s.source == "rollup" and s.sources["bot_handoffs"] == "raw"
    assert [m.dimension_id for m in s.members] == [9104, 9105]
    a, idle = s.members
    assert (a.metrics["resolutions"].count, a.metrics["resolutions"].sum) == (1, 60.0)
    assert a.metrics["resolutions"].average_business_hours == 30.0
    assert a.metrics["bot_handoffs"].count == 1
    assert a.metrics["first_response"].count == 0 and a.metrics["first_response"].average is None
    assert set(idle.metrics) == set(METRICS)
    assert all((v.count, v.sum, v.average) == (0, 0.0, None) for v in idle.metrics.values())
    # inboxes: conversation 501 handed off in both inboxes and twice in 9141 counts once each
    s = support_summary(9004, "inbox", date(2025, 6, 1), date(2025, 6, 30), metrics="all")
    handoffs = {m.dimension_id: m.metrics["bot_handoffs"].count for m in s.members}
    assert handoffs == {9141: 1, 9142: 2}  # 9142: 501 on the 4th, 502 on the 3rd


def test_summary_averages_are_ratios_of_sums(url):
    s = support_summary(9001, "agent", date(2025, 11, 1), date(2025, 11, 30))
    (m,) = s.members
    r = m.metrics["resolutions"]
    assert (r.count, r.sum, r.average) == (4, 15.0, 3.75)  # not the mean of daily means (4.0)
    assert r.average_business_hours == 7.5 / 4


def test_summary_default_is_chatwoots_agents_page_from_one_rollup_read(url):
    # Chatwoot's agents page: conversations, resolutions (count and average resolution
    # time), average first response and reply time - every one rolled up, so the rollup
    # alone answers and no raw table is read
    with reader_connection() as conn:
        c = CountingConnection(conn)
        s = support_summary(9004, "agent", date(2025, 6, 1), date(2025, 6, 30), conn=c)
    assert s.metrics == AGENTS_PAGE
    assert s.sources == dict.fromkeys(s.metrics, "rollup")
    assert not [sql for sql in c.statements if "raw.reporting_events" in sql], c.statements
    assert sum("from marts.agg_support_rollup_daily" in sql for sql in c.statements) == 1
    a, idle = s.members
    assert (a.metrics["resolutions"].count, a.metrics["resolutions"].sum) == (1, 60.0)
    assert set(idle.metrics) == set(s.metrics)
    raw = support_summary(9004, "agent", date(2025, 6, 1), date(2025, 6, 30), source="raw")
    assert raw.members == s.members and set(raw.sources.values()) == {"raw"}
    # one metric by name, and a bad one
    one = support_summary(
        9004, "agent", date(2025, 6, 1), date(2025, 6, 30), metrics="bot_handoffs"
    )
    assert one.metrics == ["bot_handoffs"] and one.sources == {"bot_handoffs": "raw"}
    with pytest.raises(TallyError, match="unknown metric 'nope'"):
        support_summary(9004, "agent", date(2025, 6, 1), date(2025, 6, 30), metrics=["nope"])


def _last_full_month() -> tuple[date, date]:
    end = date.today().replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def test_summary_equals_one_report_per_member(url):
    start, end = _last_full_month()
    with reader_connection() as conn:
        for dimension in ("agent", "inbox"):
            s = support_summary(1, dimension, start, end, metrics="all", conn=conn)
            raw = support_summary(1, dimension, start, end, metrics="all", source="raw", conn=conn)
            assert s.source == "rollup" and raw.source == "raw"
            assert len(s.members) >= 2
            assert sum(m.metrics["resolutions"].count for m in s.members) > 0
            for member, raw_member in zip(s.members, raw.members, strict=True):
                for metric in METRICS:
                    got = member.metrics[metric]
                    reports = [
                        support_report(
                            1,
                            metric,
                            start,
                            end,
                            group_by="month",
                            dimension=dimension,
                            dimension_id=member.dimension_id,
                            business_hours=bh,
                            conn=conn,
                        )
                        for bh in (False, True)
                    ]
                    assert got.count == reports[0].count, (dimension, member, metric)
                    assert got.sum == pytest.approx(reports[0].sum, rel=1e-9)
                    assert got.sum_business_hours == pytest.approx(reports[1].sum, rel=1e-9)
                    if reports[0].average is None:
                        assert got.average is None
                    else:
                        assert got.average == pytest.approx(reports[0].average, rel=1e-9)
                    other = raw_member.metrics[metric]
                    assert (other.count, other.sum) == (got.count, pytest.approx(got.sum))


def test_summary_query_count_does_not_grow_with_members(url):
    start, end = date(2025, 1, 1), date(2025, 1, 31)

    def statements(account: int, metrics: str | None = "all") -> tuple[int, int]:
        with reader_connection() as conn:
            support_summary(account, "agent", start, end, conn=conn)  # warm the zone cache
            c = CountingConnection(conn)
            s = support_summary(account, "agent", start, end, metrics=metrics, conn=c)
        return len(s.members), len(c.statements)

    assert statements(9003) == (0, 4)
    assert statements(9003, metrics=None) == (0, 3)  # the default: no raw read
    with psycopg.connect(url, autocommit=True) as conn:
        for agent in range(9300, 9360):  # 60 agents of 9003, each resolving a conversation
            conn.execute(
                "insert into raw.agents (id, account_id, name, updated_at)"
                " values (%s, 9003, 'x', now())",
                (agent,),
            )
            conn.execute(
                "insert into raw.reporting_events (account_id, name, value, user_id,"
                " conversation_id, created_at, updated_at) values (9003, 'conversation_resolved',"
                " 1, %s, %s, '2025-01-10 12:00+00', now())",
                (agent, agent),
            )
    # account + registry + members + read-path state, switch + progress, rollup and raw reads
    assert statements(9003) == (60, 4)
    assert statements(9003, metrics=None) == (60, 3)
    s = support_summary(9003, "agent", start, end, source="raw")  # not ticked into the rollup
    assert [m.metrics["resolutions"].count for m in s.members] == [1] * 60


def test_summary_bad_input(url):
    with pytest.raises(TallyError, match="unknown summary dimension"):
        support_summary(1, "account", date(2025, 6, 1), date(2025, 6, 30))
    with pytest.raises(TallyError, match="does not exist"):
        support_summary(424242, "agent", date(2025, 6, 1), date(2025, 6, 30))
    with pytest.raises(TallyError, match="reversed range"):
        support_summary(1, "agent", date(2025, 6, 30), date(2025, 6, 1))


def test_cli_summary_formats(url):
    args = ["report", "support-summary", "--account", "9004", "--dimension", "agent",
            "--from", "2025-06-01", "--to", "2025-06-30"]  # fmt: skip
    out = json.loads(run_tally(*args, "--format", "json", url=url, check=True).stdout)
    assert out["source"] == "rollup"
    rows = {(r["dimension_id"], r["metric"]): r for r in out["members"]}
    assert len(rows) == 2 * len(AGENTS_PAGE)
    assert set(out["sources"].values()) == {"rollup"}
    every = run_tally(*args, "--metrics", "all", "--format", "json", url=url, check=True).stdout
    assert len(json.loads(every)["members"]) == 2 * len(METRICS)
    assert (
        rows[(9104, "resolutions")]["count"] == 1 and rows[(9104, "resolutions")]["average"] == 60.0
    )
    assert rows[(9105, "resolutions")] | {"source": None} == {
        "dimension_id": 9105, "metric": "resolutions", "count": 0, "sum": 0.0, "average": None,
        "sum_business_hours": 0.0, "average_business_hours": None, "source": None,
    }  # fmt: skip
    text = run_tally(*args, "--format", "csv", url=url, check=True).stdout.splitlines()
    parsed = list(csv.DictReader(text))
    assert len(parsed) == 2 * len(AGENTS_PAGE) and parsed[0]["dimension_id"] == "9104"
    table = run_tally(*args, url=url, check=True).stdout
    assert "source: rollup" in table and "9105" in table
    proc = run_tally(*args[:5], "label", *args[6:], url=url)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    proc = run_tally(*args, "--metrics", "resolutions,nope", url=url)
    assert proc.returncode != 0 and proc.stderr.count("\n") == 1
    assert "unknown metric 'nope'" in proc.stderr


# --------------------------------------------------------------------------- read-path switch


def test_read_path_switch_reads_raw_and_writes_go_on(url):
    acc = 1
    (tz,) = query(url, "select reporting_timezone from raw.accounts where id = %s", (acc,))[0]
    today = datetime.now(ZoneInfo(tz)).date()
    before = support_report(acc, "resolutions", today, today)
    assert before.source == "rollup"
    proc = run_tally(
        "support", "read-path", "--account", str(acc), "--raw", "--reason", "verifying a backfill",
        url=url, check=True,
    )  # fmt: skip
    assert "raw" in proc.stdout
    # a new raw event the rollup does not hold yet: only a real raw read sees it
    execute(
        url,
        "insert into raw.reporting_events (account_id, name, value, value_in_business_hours,"
        " created_at, updated_at) values (%s, 'conversation_resolved', 42, 21, now(), now())",
        (acc,),
    )
    with reader_connection() as conn:
        c = CountingConnection(conn)
        r = support_report(acc, "resolutions", today, today, conn=c)
        s = support_summary(acc, "agent", today, today, conn=c)
    assert r.source == "raw" and "switched to read raw: verifying a backfill" in r.fallback_reason
    assert r.count == before.count + 1
    assert s.source == "raw" and set(s.sources.values()) == {"raw"}
    reads = [sql for sql in c.statements if "from marts.agg_support_rollup_daily" in sql]
    assert reads == [], reads
    assert sum("from raw.reporting_events" in sql for sql in c.statements) == 2
    # writes go on while switched: the tick folds the event into the rollup (`run`: the
    # invalid-timezone account's failing check is fixed only by the mutation rounds below)
    runtime.run_dbt(["run", "--select", "agg_support_rollup_daily"], capture=True, quiet=True)
    assert_rollup_matches(url, {acc})
    assert support_report(acc, "resolutions", today, today, source="raw").count == r.count
    listed = run_tally("support", "read-path", url=url, check=True).stdout
    assert f"account {acc}: raw (verifying a backfill)" in listed
    run_tally("support", "read-path", "--account", str(acc), "--rollup", url=url, check=True)
    after = support_report(acc, "resolutions", today, today)
    assert after.source == "rollup" and after.count == r.count
    proc = run_tally("support", "read-path", "--account", "424242", "--raw", url=url)
    assert proc.returncode == 2 and "does not exist" in proc.stderr


# --------------------------------------------------------------------------- change rounds


def test_mutation_rounds_with_sensor_rebuild(url):
    from dagster import build_sensor_context

    from orchestration.resources import TallyDatabase
    from orchestration.support.sensors import pending_timezone_changes, support_timezone_sensor

    # the invalid account is fixed by its owner (else every run's check fails)
    execute(
        url, "update raw.accounts set reporting_timezone = null, updated_at = now() where id = 9009"
    )
    with psycopg.connect(url) as conn:
        assert pending_timezone_changes(conn) == []
    # one account's timezone changes twice before the sensor looks: one rebuild, in the last zone
    execute(url, "update raw.accounts set reporting_timezone = 'Asia/Kolkata' where id = 9003")
    execute(url, "update raw.accounts set reporting_timezone = 'Pacific/Chatham' where id = 9003")
    requests = support_timezone_sensor(
        build_sensor_context(resources={"tally_db": TallyDatabase(url=url)})
    )
    again = support_timezone_sensor(
        build_sensor_context(resources={"tally_db": TallyDatabase(url=url)})
    )
    assert [int(r.tags["tally/account_id"]) for r in requests] == [9003]
    assert [r.run_key for r in requests] == [r.run_key for r in again]  # dedupes to one run
    assert "Pacific/Chatham" in requests[0].run_key

    # until the rebuild, the reader answers from raw in the new zone (+13:45 in January)
    before = support_report(9003, "reply_time", date(2025, 1, 15), date(2025, 1, 16))
    assert before.source == "raw" and "not yet rebuilt" in before.fallback_reason
    assert [p.count for p in before.periods] == [0, 2]

    result = runtime.execute_job("support_rollup", run_config=requests[0].run_config)
    assert result.success, runtime.failure_summary(result)  # its checks pass too
    assert_rollup_matches(url, {9003})  # rebuilt wholly in +13:45/+12:45, old rows gone
    assert _rows(url, 9003, "reply_time")[date(2025, 1, 16)] == (2, 12.0)  # 13:29Z and 13:30Z
    after = support_report(9003, "reply_time", date(2025, 1, 15), date(2025, 1, 16))
    assert after.source == "rollup" and after.periods == before.periods
    with psycopg.connect(url) as conn:
        assert pending_timezone_changes(conn) == []
        counts = datagen.mutate(conn, seed=2)  # sets a timezone on an account without one
        conn.commit()
        changed = counts["timezone_changed_account_id"]
        assert [c.account_id for c in pending_timezone_changes(conn)] == [changed]

    tick()  # the tick rebuilds that account wholly and applies inserts, late rows, deletes
    assert_rollup_matches(url)
    with psycopg.connect(url) as conn:
        assert pending_timezone_changes(conn) == []

    for seed in (3, 5):
        with psycopg.connect(url) as conn:
            counts = datagen.mutate(conn, seed=seed)
            conn.commit()
        assert counts.get("reporting_events.deleted", 0) > 0
        tick()
        assert_rollup_matches(url)


def test_backfill_one_account_dry_run_then_real(url, capsys):
    from orchestration.commands import support_backfill

    acc, other = 1, 2
    # a day older than the sliding window and reconcile_days that both accounts have data on
    day = query(
        url,
        "select day_bucket from marts.agg_support_rollup_daily"
        " where dimension_type = 'account' and day_bucket between %s and %s"
        " group by 1 having count(*) filter (where account_id = 1 and metric = 'resolutions') = 1"
        " and count(*) filter (where account_id = 1 and metric = 'reply_time') = 1"
        " and count(*) filter (where account_id = 2 and metric = 'resolutions') = 1"
        " order by 1 desc limit 1",
        (date.today() - timedelta(days=150), date.today() - timedelta(days=70)),
    )[0][0]
    execute(
        url,
        "update marts.agg_support_rollup_daily set count = count + 5 where account_id in (1, 2) and day_bucket = %s and dimension_type = 'account' and metric = 'resolutions'",
        (day,),
    )
    execute(
        url,
        "delete from marts.agg_support_rollup_daily where account_id = 1 and day_bucket = %s and dimension_type = 'account' and metric = 'reply_time'",
        (day,),
    )
    execute(
        url,
        "insert into marts.agg_support_rollup_daily values (1, %s, 'inbox', 777, 'resolutions', 1, 1, 1, now(), 'bogus')",
        (day,),
    )
    before = stored_rollup(url)

    args = argparse.Namespace(start=day, end=day, domain="support", account=acc, dry_run=True)
    assert support_backfill.run(args) == 0
    out = capsys.readouterr().out
    assert "1 inserted, 1 deleted, 1 changed" in out, out
    assert stored_rollup(url) == before  # nothing written

    args.dry_run = False
    assert support_backfill.run(args) == 0
    assert_rollup_matches(url, {acc})
    # the dry run runs the mart's own compiled SQL: after the real backfill it finds
    # nothing to change in the rows that backfill wrote
    capsys.readouterr()
    args.dry_run = True
    assert support_backfill.run(args) == 0
    assert "0 inserted, 0 deleted, 0 changed" in capsys.readouterr().out
    stored = stored_rollup(url, {other})
    expected = expected_rollup(url, {other})
    key = (other, day, "account", other, "resolutions")
    assert stored[key][0] == expected[key][0] + 5  # the other account was not touched

    # (a mutation round may have given 9005 a timezone: it picks among accounts without one)
    execute(url, "update raw.accounts set reporting_timezone = null where id = 9005")
    with pytest.raises(TallyError, match="no reporting_timezone"):
        support_backfill.run(
            argparse.Namespace(start=day, end=day, domain="support", account=9005, dry_run=True)
        )
    with pytest.raises(TallyError, match="does not exist"):
        support_backfill.run(
            argparse.Namespace(start=day, end=day, domain="support", account=424242, dry_run=True)
        )


def test_a_launchpad_backfill_is_checked_and_audited_in_the_run(url):
    """Issue 20 item 1 for the support backfill: the job itself checks the account (the
    CLI's one line as the run's failure reason, dbt never starts) and audits a valid run
    with who asked - the Launchpad and GraphQL take this path, not the CLI's."""
    from orchestration.support.jobs import SUPPORT_JOB, SUPPORT_MART, backfill_config

    day = (date.today() - timedelta(days=100)).isoformat()
    audits = "select count(*) from ops.audit_entries where action = 'support.backfill'"
    before = query(url, audits)[0][0]
    result = runtime.execute_job(
        SUPPORT_JOB, run_config=backfill_config(424242), partition_range=(day, day)
    )
    assert not result.success
    assert runtime.failure_summary(result) == (
        "account 424242 does not exist; check the id in raw.accounts"
    )
    assert not result.get_asset_materialization_events()  # dbt never wrote the mart
    assert query(url, audits)[0][0] == before

    result = runtime.execute_job(
        SUPPORT_JOB,
        run_config={"ops": {"incremental_marts": {"config": {"backfill_account_id": 1}}}},
    )
    assert runtime.failure_summary(result) == (
        "backfill_account_id needs a partition range (--start/--end)"
    )

    result = runtime.execute_job(
        SUPPORT_JOB, run_config=backfill_config(1), partition_range=(day, day)
    )
    assert any(e.asset_key == SUPPORT_MART for e in result.get_asset_materialization_events())
    rows = query(
        url,
        "select actor, resource_id, metadata->>'start', metadata->>'end' from ops.audit_entries"
        " where action = 'support.backfill' and metadata->>'dagster_run_id' = %s",
        (result.run_id,),
    )
    assert rows == [("launchpad", "1", day, day)]
    assert_rollup_matches(url, {1})


def test_a_launchpad_rebuild_of_a_missing_account_fails_before_dbt(url):
    from orchestration.support.jobs import SUPPORT_JOB, SUPPORT_MART, rebuild_config

    result = runtime.execute_job(SUPPORT_JOB, run_config=rebuild_config(424242))
    assert not result.success
    assert runtime.failure_summary(result) == (
        "account 424242 does not exist; check the id in raw.accounts"
    )
    assert not any(e.asset_key == SUPPORT_MART for e in result.get_asset_materialization_events())
