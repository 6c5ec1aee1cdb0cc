"""Issue 18 items 2 and 3 on a real PostgreSQL: conversations_count,
incoming_messages_count and outgoing_messages_count rolled up per account, agent,
inbox and team; the team and label dimensions of the report reader.

One module database: datagen's support domain (scale 0.05) plus hand-made rows whose
expected values are computed by hand (New York's 23-hour day, a team of another
account, labels). Elsewhere the expected rollup and report counts come from
tests/support_threads_expected.py (Python over raw rows, zoneinfo) - independent of
the models and of the reader's SQL. Tests run in file order (mutation rounds last).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from conftest import execute, query, run_tally
from support_threads_expected import (
    THREAD_METRICS,
    expected_thread_count,
    expected_thread_rollup,
    utc,
)

from orchestration import datagen, runtime
from orchestration.errors import TallyError
from orchestration.reader.support import support_report, support_summary

pytestmark = pytest.mark.slow

NY, OTHER = 9201, 9202
AGENT, INBOX = 9211, 9221
TEAM_A, TEAM_B, TEAM_OTHER = 9301, 9302, 9303
VIP, BUG, LABEL_OTHER = 9401, 9402, 9403
MARCH = (date(2025, 3, 1), date(2025, 3, 31))
# hand rows were loaded long before the first build: a tick re-reads a day only when a
# row of it changed since (not because of the watermark lag)
LOADED = datetime.now(UTC) - timedelta(days=1)

# conversation, account, inbox, assignee, team, created_at (UTC)
HAND_CONVERSATIONS = [
    (9501, NY, INBOX, AGENT, TEAM_A, "2025-03-09 05:30:00"),  # local 03-09 00:30 EST
    (9502, NY, INBOX, None, TEAM_B, "2025-03-09 04:30:00"),  # local 03-08 23:30 EST
    (9503, OTHER, None, None, TEAM_OTHER, "2025-03-09 12:00:00"),
]
# conversation, account, inbox, type, created_at (UTC)
HAND_MESSAGES = [
    (9501, NY, INBOX, "incoming", "2025-03-09 05:30:00"),  # 03-09
    (9501, NY, INBOX, "outgoing", "2025-03-10 03:59:59"),  # 03-09 23:59:59 EDT (23-hour day)
    (9501, NY, INBOX, "outgoing", "2025-03-10 04:00:00"),  # 03-10 00:00 EDT
    (9501, NY, INBOX, "activity", "2025-03-09 06:00:00"),  # in no metric
    (9502, NY, INBOX, "incoming", "2025-03-09 04:30:00"),  # 03-08
    (9502, NY, INBOX, "incoming", "2025-03-11 12:00:00"),  # 03-11
    (9503, OTHER, None, "incoming", "2025-03-09 12:00:00"),
]
HAND_LABELS = [(VIP, NY, "vip"), (BUG, NY, "bug"), (LABEL_OTHER, OTHER, "vip")]
HAND_CONVERSATION_LABELS = [(NY, 9501, VIP), (NY, 9502, BUG), (OTHER, 9503, LABEL_OTHER)]


def _insert_hand_data(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for acc, tz in ((NY, "America/New_York"), (OTHER, "UTC")):
            conn.execute(
                "insert into raw.accounts (id, name, reporting_timezone, updated_at)"
                " values (%s, 'hand', %s, now())",
                (acc, tz),
            )
        conn.execute(
            "insert into raw.agents (id, account_id, name, updated_at) values (%s, %s, 'a', now())",
            (AGENT, NY),
        )
        conn.execute(
            "insert into raw.inboxes (id, account_id, name, channel_type, updated_at)"
            " values (%s, %s, 'i', 'email', now())",
            (INBOX, NY),
        )
        for team, acc in ((TEAM_A, NY), (TEAM_B, NY), (TEAM_OTHER, OTHER)):
            conn.execute(
                "insert into raw.teams (id, account_id, name, updated_at) values (%s, %s, 't', now())",
                (team, acc),
            )
        for row in HAND_CONVERSATIONS:
            conn.execute(
                "insert into raw.conversations (id, account_id, inbox_id, assignee_id, team_id,"
                " status, created_at, updated_at) values (%s, %s, %s, %s, %s, 'open', %s, %s)",
                (*row[:5], utc(row[5]), LOADED),
            )
        for conv, acc, inbox, mtype, ts in HAND_MESSAGES:
            conn.execute(
                "insert into raw.messages (conversation_id, account_id, inbox_id, sender_type,"
                " message_type, created_at, updated_at) values (%s, %s, %s, 'contact', %s, %s, %s)",
                (conv, acc, inbox, mtype, utc(ts), LOADED),
            )
        # a resolution of 9502 four days after its last message: its team row moves too
        conn.execute(
            "insert into raw.reporting_events (account_id, name, value, value_in_business_hours,"
            " inbox_id, conversation_id, created_at, updated_at)"
            " values (%s, 'conversation_resolved', 5, 5, %s, 9502, %s, %s)",
            (NY, INBOX, utc("2025-03-15 15:00:00"), LOADED),
        )
        for label, acc, title in HAND_LABELS:
            conn.execute(
                "insert into raw.labels (id, account_id, title, updated_at) values (%s, %s, %s, now())",
                (label, acc, title),
            )
        for acc, conv, label in HAND_CONVERSATION_LABELS:
            conn.execute(
                "insert into raw.conversation_labels (account_id, conversation_id, label_id,"
                " updated_at) values (%s, %s, %s, now())",
                (acc, conv, label),
            )


def stored_thread_rollup(url: str) -> dict[tuple, tuple]:
    rows = query(
        url,
        "select account_id, day_bucket, dimension_type, dimension_id, metric, count, sum_value,"
        " sum_value_business_hours from marts.agg_support_rollup_daily where metric = any(%s)",
        (THREAD_METRICS,),
    )
    return {tuple(r[:5]): (r[5], r[6], r[7]) for r in rows}


def assert_threads_match(url: str) -> None:
    expected, stored = expected_thread_rollup(url), stored_thread_rollup(url)
    missing = sorted(set(expected) - set(stored))[:5]
    extra = sorted(set(stored) - set(expected))[:5]
    assert not missing and not extra, f"missing {missing}, extra {extra}"
    wrong = [(k, stored[k], v) for k, v in expected.items() if stored[k] != v][:5]
    assert not wrong, wrong


def tick() -> None:
    runtime.run_dbt(["build", "--select", "agg_support_rollup_daily"], capture=True, quiet=True)


@pytest.fixture(scope="module")
def url(tally_db: str) -> str:
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.05, seed=11, domains=["support"])
    _insert_hand_data(tally_db)
    proc = runtime.run_dbt(
        ["build", "--select", "+agg_support_rollup_daily", "assert_support_rollup_reconciles"],
        check=False,
        capture=True,
    )
    results = json.loads((runtime.TARGET_DIR / "run_results.json").read_text())
    status = {r["unique_id"].split(".")[-1]: r["status"] for r in results["results"]}
    assert status["agg_support_rollup_daily"] == "success", proc.stdout[-3000:]
    assert status["assert_support_rollup_reconciles"] == "pass", proc.stdout[-3000:]
    return tally_db


def _rows(url: str, account: int, metric: str, dim: str, dim_id: int) -> dict[date, int]:
    return dict(
        query(
            url,
            "select day_bucket, count from marts.agg_support_rollup_daily where account_id = %s"
            " and metric = %s and dimension_type = %s and dimension_id = %s order by 1",
            (account, metric, dim, dim_id),
        )
    )


# --------------------------------------------------------------------------- write path


def test_first_build_equals_independent_rollup(url):
    assert_threads_match(url)
    # the generated data has something in every metric and dimension
    kinds = set(
        query(
            url,
            "select metric, dimension_type from marts.agg_support_rollup_daily"
            " where metric = any(%s) group by 1, 2",
            (THREAD_METRICS,),
        )
    )
    assert kinds == {(m, d) for m in THREAD_METRICS for d in ("account", "agent", "inbox", "team")}


def test_hand_computed_days_and_teams(url):
    d = date
    assert _rows(url, NY, "conversations_count", "account", NY) == {
        d(2025, 3, 8): 1,
        d(2025, 3, 9): 1,
    }
    assert _rows(url, NY, "conversations_count", "team", TEAM_A) == {d(2025, 3, 9): 1}
    assert _rows(url, NY, "conversations_count", "team", TEAM_B) == {d(2025, 3, 8): 1}
    assert _rows(url, NY, "conversations_count", "agent", AGENT) == {d(2025, 3, 9): 1}
    assert _rows(url, NY, "incoming_messages_count", "account", NY) == {
        d(2025, 3, 8): 1,
        d(2025, 3, 9): 1,
        d(2025, 3, 11): 1,
    }
    # the 23-hour day ends at 04:00Z: 03:59:59Z is still 03-09
    assert _rows(url, NY, "outgoing_messages_count", "team", TEAM_A) == {
        d(2025, 3, 9): 1,
        d(2025, 3, 10): 1,
    }
    assert _rows(url, NY, "incoming_messages_count", "team", TEAM_B) == {
        d(2025, 3, 8): 1,
        d(2025, 3, 11): 1,
    }
    # reporting events count for their conversation's team
    assert _rows(url, NY, "resolutions", "team", TEAM_B) == {d(2025, 3, 15): 1}
    # unassigned 9502: its messages are in no agent row; activity messages in no metric
    assert _rows(url, NY, "incoming_messages_count", "agent", AGENT) == {d(2025, 3, 9): 1}
    assert query(
        url,
        "select count(*) from marts.agg_support_rollup_daily where account_id = %s"
        " and metric not in (select metric from reference.metric_registry)",
        (NY,),
    ) == [(0,)]


# --------------------------------------------------------------------------- read path


def test_team_report_from_the_rollup(url):
    r = support_report(NY, "incoming_messages_count", *MARCH, dimension="team", dimension_id=TEAM_B)
    assert (r.source, r.fallback_reason, r.count) == ("rollup", None, 2)
    assert [(p.period_start, p.count) for p in r.periods if p.count] == [
        (date(2025, 3, 8), 1),
        (date(2025, 3, 11), 1),
    ]
    assert r.periods[0].sum == 0.0 and r.periods[7].average == 0.0  # counts have no values
    raw = support_report(
        NY,
        "incoming_messages_count",
        *MARCH,
        dimension="team",
        dimension_id=TEAM_B,
        source="raw",
    )
    assert raw.periods == r.periods


def test_label_report_from_raw(url):
    r = support_report(
        NY, "incoming_messages_count", *MARCH, group_by="month", dimension="label", dimension_id=BUG
    )
    assert r.source == "raw" and "labels change after the fact" in r.fallback_reason
    assert [(p.period_start, p.count) for p in r.periods] == [(date(2025, 3, 1), 2)]
    vip = support_report(NY, "conversations_count", *MARCH, dimension="label", dimension_id=VIP)
    assert vip.count == 1
    # reporting-event metrics by label come from raw too, through the conversation
    r = support_report(NY, "resolutions", *MARCH, dimension="label", dimension_id=VIP)
    assert r.source == "raw" and r.count == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dimension": "team", "dimension_id": 987654}, "team 987654 does not exist"),
        ({"dimension": "label", "dimension_id": 987654}, "label 987654 does not exist"),
        (
            {"dimension": "team", "dimension_id": TEAM_OTHER},
            f"team {TEAM_OTHER} belongs to account {OTHER}, not to account {NY}",
        ),
        (
            {"dimension": "label", "dimension_id": LABEL_OTHER},
            f"label {LABEL_OTHER} belongs to account {OTHER}, not to account {NY}",
        ),
        ({"dimension": "team"}, "dimension team needs an id"),
    ],
)
def test_bad_team_or_label_is_one_clear_error(url, kwargs, message):
    with pytest.raises(TallyError) as exc:
        support_report(NY, "conversations_count", *MARCH, **kwargs)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_cli_bad_team_is_one_line(url):
    proc = run_tally(
        "report", "support", "--account", str(NY), "--metric", "conversations_count",
        "--dimension", "team", "--id", str(TEAM_OTHER), "--start", "2025-03-01",
        "--end", "2025-03-31", url=url,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "belongs to account" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def _busiest(url: str) -> tuple[int, str, dict[str, int]]:
    """The generated account with the most messages, its zone and one member per dimension
    (the busiest agent, inbox, team and label of the account)."""
    acc, tz = query(
        url,
        "select a.id, a.reporting_timezone from raw.accounts a join raw.messages m"
        " on m.account_id = a.id where a.reporting_timezone is not null and a.id < 9000"
        " group by 1, 2 order by count(*) desc, 1 limit 1",
    )[0]
    members = {}
    for dim, sql in (
        (
            "agent",
            "select assignee_id from raw.conversations where account_id = %s and assignee_id is not null",
        ),
        (
            "inbox",
            "select inbox_id from raw.conversations where account_id = %s and inbox_id is not null",
        ),
        (
            "team",
            "select team_id from raw.conversations where account_id = %s and team_id is not null",
        ),
        ("label", "select label_id from raw.conversation_labels where account_id = %s"),
    ):
        (members[dim],) = query(
            url,
            f"select x, count(*) from ({sql}) as t(x) group by 1 order by 2 desc, 1 limit 1",
            (acc,),
        )[0][:1]
    members["account"] = acc
    return acc, tz, members


def _check_paths_and_oracle(url: str) -> int:
    """Every thread metric x dimension (account, agent, inbox, team, label) x grouping of
    the busiest account over the last ~14 months: rollup path == raw path, and the total
    equals the Python oracle. Returns the number of reports compared."""
    acc, tz, members = _busiest(url)
    (today,) = query(url, "select (now() at time zone %s)::date", (tz,))[0]
    start, end = today - timedelta(days=420), today
    n = 0
    for metric in THREAD_METRICS:
        for dim, dim_id in members.items():
            kw = {"dimension": dim, "dimension_id": None if dim == "account" else dim_id}
            want = expected_thread_count(url, acc, metric, start, end, dim, dim_id, tz)
            for group_by in ("day", "week", "month", "year"):
                auto = support_report(acc, metric, start, end, group_by=group_by, **kw)
                raw = support_report(acc, metric, start, end, group_by=group_by, source="raw", **kw)
                assert auto.source == ("raw" if dim == "label" else "rollup"), auto.fallback_reason
                assert raw.source == "raw"
                assert auto.periods == raw.periods, (metric, dim, group_by)
                assert auto.count == want, (metric, dim, group_by, auto.count, want)
                n += 1
    return n


def test_rollup_path_equals_raw_path_and_oracle(url):
    assert _check_paths_and_oracle(url) == len(THREAD_METRICS) * 5 * 4


def test_team_summary_lists_every_team_with_zeros(url):
    s = support_summary(NY, "team", *MARCH, metrics="all")
    assert [m.dimension_id for m in s.members] == [TEAM_A, TEAM_B]
    assert s.sources["incoming_messages_count"] == "rollup"
    assert s.sources["resolutions"] == "rollup" and s.sources["bot_handoffs"] == "raw"
    a, b = s.members
    assert a.metrics["outgoing_messages_count"].count == 2
    assert b.metrics["incoming_messages_count"].count == 2
    assert b.metrics["outgoing_messages_count"].count == 0
    assert (b.metrics["resolutions"].count, b.metrics["resolutions"].average) == (1, 5.0)
    assert a.metrics["resolutions"].count == 0 and a.metrics["resolutions"].average is None
    raw = support_summary(NY, "team", *MARCH, metrics="all", source="raw")
    assert raw.members == s.members
    for dimension in ("agent", "inbox"):
        got = support_summary(NY, dimension, *MARCH, metrics="all")
        want = support_summary(NY, dimension, *MARCH, metrics="all", source="raw")
        assert got.members == want.members


# --------------------------------------------------------------------------- mutation rounds


def test_mutation_rounds_keep_rollup_equal_to_raw(url):
    """Three rounds of `datagen --mutate` (late and deleted messages, a conversation moved
    to another team, a reassignment, label changes, an account's timezone change), plus a
    hand-made team move of 9502 whose messages are days outside the sliding window; a
    tick after each; the rollup equals the oracle and both read paths agree."""
    with psycopg.connect(url, autocommit=True) as conn:
        execute(
            url,
            "update raw.conversations set team_id = %s, updated_at = now() where id = 9502",
            (TEAM_A,),
        )
        tick()
        assert _rows(url, NY, "incoming_messages_count", "team", TEAM_A) == {
            date(2025, 3, 8): 1,
            date(2025, 3, 9): 1,
            date(2025, 3, 11): 1,
        }
        assert _rows(url, NY, "incoming_messages_count", "team", TEAM_B) == {}
        assert _rows(url, NY, "resolutions", "team", TEAM_A) == {date(2025, 3, 15): 1}
        assert _rows(url, NY, "resolutions", "team", TEAM_B) == {}
        assert_threads_match(url)
        execute(
            url,
            "delete from raw.messages where conversation_id = 9501 and message_type = 'outgoing'",
        )
        tick()
        assert _rows(url, NY, "outgoing_messages_count", "account", NY) == {}
        changed = []
        for seed in (31, 32, 33):
            counts = datagen.mutate(conn, seed=seed)
            for key in ("messages.deleted", "messages.late_inserted", "conversations.team_moved"):
                assert counts.get(key, 0) > 0, (key, counts)
            changed.append(counts["timezone_changed_account_id"])
            tick()
            assert_threads_match(url)
            (moved_team,) = query(
                url,
                "select team_id from raw.conversations where id = %s",
                (counts["team_moved_conversation_id"],),
            )[0]
            assert (
                query(
                    url,
                    "select count(*) from marts.agg_support_rollup_daily where dimension_type = 'team'"
                    " and dimension_id = %s",
                    (moved_team,),
                )[0][0]
                > 0
            )
        assert _check_paths_and_oracle(url) > 0
