"""Tests of the synthetic raw-data generator against a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from conftest import run_tally

from orchestration import datagen

NOW = datetime(2026, 11, 23, 17, tzinfo=UTC)
SCALE = 0.05

# Written from DESIGN.md ("The raw contract"), independently of the generator.
EXPECTED_COLUMNS: dict[str, dict[str, str]] = {
    "organizations": {"name": "text", "reporting_timezone": "text", "configuration": "jsonb"},
    "campaigns": {
        "organization_id": "bigint",
        "name": "text",
        "created_at": "timestamp with time zone",
    },
    "campaign_recipients": {
        "organization_id": "bigint",
        "campaign_id": "bigint",
        "recipient_id": "bigint",
        "is_holdout": "boolean",
        "sent_at": "timestamp with time zone",
    },
    "attributions": {
        "organization_id": "bigint",
        "campaign_id": "bigint",
        "recipient_id": "bigint",
        "customer_id": "bigint",
        "order_id": "text",
        "order_value": "numeric(12,2)",
        "attribution_type": "text",
        "is_holdout": "boolean",
        "is_first_purchase": "boolean",
        "is_subscription": "boolean",
        "discount_matched": "boolean",
        "is_new_subscriber": "boolean",
        "passes_rules": "boolean",
        "archived": "boolean",
        "ordered_at": "timestamp with time zone",
        "created_at": "timestamp with time zone",
    },
    "accounts": {"name": "text", "reporting_timezone": "text"},
    "agents": {"account_id": "bigint", "name": "text"},
    "inboxes": {"account_id": "bigint", "name": "text", "channel_type": "text"},
    "reporting_events": {
        "account_id": "bigint",
        "name": "text",
        "value": "double precision",
        "value_in_business_hours": "double precision",
        "user_id": "bigint",
        "inbox_id": "bigint",
        "conversation_id": "bigint",
        "event_start_time": "timestamp with time zone",
        "event_end_time": "timestamp with time zone",
        "created_at": "timestamp with time zone",
    },
    # issue 18 (docs/support.md "Conversations and messages")
    "teams": {"account_id": "bigint", "name": "text"},
    "conversations": {
        "account_id": "bigint",
        "inbox_id": "bigint",
        "assignee_id": "bigint",
        "team_id": "bigint",
        "status": "text",
        "created_at": "timestamp with time zone",
    },
    "messages": {
        "conversation_id": "bigint",
        "account_id": "bigint",
        "inbox_id": "bigint",
        "sender_type": "text",
        "message_type": "text",
        "created_at": "timestamp with time zone",
    },
    "labels": {"account_id": "bigint", "title": "text"},
    "conversation_labels": {
        "account_id": "bigint",
        "conversation_id": "bigint",
        "label_id": "bigint",
    },
    "event_sources": {
        "slug": "text",
        "provider_name": "text",
        "description": "text",
        "is_active": "boolean",
    },
    "analytics_events": {
        "source_id": "bigint",
        "entity_id": "text",
        "status": "text",
        "processing_ms": "integer",
        "amount_cents": "bigint",
        "occurred_at": "timestamp with time zone",
        "payload": "jsonb",
    },
    "shops": {
        "account_id": "bigint",
        "platform": "text",
        "integration_created_at": "timestamp with time zone",
    },
    "orders": {
        "shop_id": "bigint",
        "total": "numeric(12,2)",
        "created_at": "timestamp with time zone",
    },
    "emails": {"account_id": "bigint", "category": "text", "sent_at": "timestamp with time zone"},
    "workspaces": {"name": "text"},
    "executions": {
        "workspace_id": "bigint",
        "user_id": "bigint",
        "status": "text",
        "started_at": "timestamp with time zone",
        "duration_ms": "bigint",
        "credits_used": "numeric(12,4)",
    },
    "user_activity": {
        "workspace_id": "bigint",
        "user_id": "bigint",
        "activity_type": "text",
        "occurred_at": "timestamp with time zone",
    },
}


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture
def empty_db_url(new_database: Callable[[str], str]) -> str:
    """An empty database on the session server of tests/conftest.py."""
    return new_database("dg")


@pytest.fixture(scope="module")
def loaded(new_database: Callable[[str], str]) -> Iterator[psycopg.Connection]:
    """One database generated at SCALE, shared by the read-only checks."""
    url = new_database("dg")
    with psycopg.connect(url, autocommit=True) as conn:
        counts = datagen.generate(conn, scale=SCALE, seed=42, now=NOW)
        assert counts["attributions"] > 1000
        yield conn


def q(conn: psycopg.Connection, query: str, *params: object) -> object:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def checksums(conn: psycopg.Connection) -> dict[str, str]:
    return {
        t: str(q(conn, f"select md5(string_agg(t::text, ',' order by id)) from raw.{t} t"))
        for t in EXPECTED_COLUMNS
    }


# ----------------------------------------------------------------------------- schema


def test_contract_columns_and_types(loaded: psycopg.Connection) -> None:
    rows = loaded.execute(
        "select table_name, column_name,"
        " case when data_type = 'numeric' then format('numeric(%s,%s)', numeric_precision, numeric_scale)"
        " else data_type end, is_nullable"
        " from information_schema.columns where table_schema = 'raw'"
    ).fetchall()
    actual: dict[str, dict[str, str]] = {}
    for table, col, typ, nullable in rows:
        actual.setdefault(table, {})[col] = typ
        if col == "updated_at":
            assert nullable == "NO", table
    assert set(actual) == set(EXPECTED_COLUMNS)
    for table, cols in EXPECTED_COLUMNS.items():
        assert actual[table]["id"] == "bigint"
        assert actual[table]["updated_at"] == "timestamp with time zone"
        for col, typ in cols.items():
            assert actual[table].get(col) == typ, (table, col)
    # every table has a primary key on id
    pks = loaded.execute(
        "select tc.table_name from information_schema.table_constraints tc"
        " join information_schema.key_column_usage k using (constraint_schema, constraint_name)"
        " where tc.table_schema = 'raw' and tc.constraint_type = 'PRIMARY KEY' and k.column_name = 'id'"
    ).fetchall()
    assert {r[0] for r in pks} == set(EXPECTED_COLUMNS)
    idx = {r[0] for r in loaded.execute("select indexdef from pg_indexes where schemaname = 'raw'")}
    assert any("attributions" in i and "(organization_id, ordered_at)" in i for i in idx)
    assert any("reporting_events" in i and "(account_id, created_at)" in i for i in idx)
    for table in ("messages", "conversations"):
        assert any(f"raw.{table} " in i and "(account_id, created_at)" in i for i in idx), table
    assert any("raw.messages " in i and "(conversation_id)" in i for i in idx)
    assert any("raw.reporting_events " in i and "(conversation_id)" in i for i in idx)


def test_create_raw_schema_idempotent(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        assert datagen.is_empty(conn)
        datagen.create_raw_schema(conn)
        datagen.create_raw_schema(conn)
        assert datagen.is_empty(conn)


# ----------------------------------------------------------------------------- determinism / force


def test_determinism_and_force(new_database: Callable[[str], str]) -> None:
    urls = [new_database("dg") for _ in range(2)]
    sums = []
    for url in urls:
        with psycopg.connect(url, autocommit=True) as conn:
            datagen.generate(conn, scale=SCALE, seed=7, now=NOW)
            sums.append(checksums(conn))
    assert sums[0] == sums[1]
    with psycopg.connect(urls[0], autocommit=True) as conn:
        with pytest.raises(datagen.DatagenError, match="--force"):
            datagen.generate(conn, scale=SCALE, seed=8, now=NOW)
        assert checksums(conn) == sums[0]  # nothing written on refusal
        assert not datagen.is_empty(conn)
        datagen.generate(conn, scale=SCALE, seed=8, now=NOW, force=True)
        other = checksums(conn)
    assert other["attributions"] != sums[0]["attributions"]
    assert other["reporting_events"] != sums[0]["reporting_events"]


def test_ids_continue_after_load(loaded: psycopg.Connection) -> None:
    with loaded.transaction():
        top = q(loaded, "select max(id) from raw.emails")
        new = q(
            loaded,
            "insert into raw.emails (account_id, category, sent_at) values (1, 'campaign', now()) returning id",
        )
        assert new == top + 1  # type: ignore[operator]
        loaded.execute("delete from raw.emails where id = %s", (new,))


# ----------------------------------------------------------------------------- distributions


def test_history_span(loaded: psycopg.Connection) -> None:
    for table, col in [
        ("attributions", "ordered_at"),
        ("reporting_events", "created_at"),
        ("analytics_events", "occurred_at"),
        ("orders", "created_at"),
        ("emails", "sent_at"),
        ("executions", "started_at"),
        ("user_activity", "occurred_at"),
    ]:
        lo, hi, upd = loaded.execute(
            f"select min({col}), max({col}), max(updated_at) from raw.{table}"
        ).fetchone()  # type: ignore[misc]
        assert hi <= NOW and upd <= NOW, table
        assert hi >= NOW - timedelta(hours=12), table
        assert lo <= NOW - timedelta(days=400), table


def test_orders_domain(loaded: psycopg.Connection) -> None:
    tzs = {
        r[0]: r[1] for r in loaded.execute("select id, reporting_timezone from raw.organizations")
    }
    assert tzs[1] == "America/New_York"
    assert {"UTC", "Asia/Kolkata", "Asia/Kathmandu"} <= set(tzs.values())
    assert (
        q(
            loaded,
            "select count(*) from raw.organizations where configuration ? 'excluded_attributions'"
            " and jsonb_typeof(configuration -> 'excluded_attributions') = 'array'",
        )
        >= 1
    )  # type: ignore[operator]
    assert q(loaded, "select count(*) from raw.organizations where configuration = '{}'") >= 2  # type: ignore[operator]
    share = q(loaded, "select avg(is_holdout::int) from raw.campaign_recipients")
    assert 0.05 <= share <= 0.15  # type: ignore[operator]
    assert (
        q(
            loaded,
            "select count(*) from raw.campaigns c where exists (select 1 from raw.campaign_recipients r"
            " where r.campaign_id = c.id) and not exists (select 1 from raw.campaign_recipients r"
            " where r.campaign_id = c.id and r.is_holdout)",
        )
        >= 1
    )  # type: ignore[operator]
    stats = loaded.execute(
        "select avg(archived::int), avg((not passes_rules)::int), avg((order_value = 0)::int),"
        " count(distinct attribution_type), avg(is_first_purchase::int), count(distinct customer_id),"
        " count(*) from raw.attributions"
    ).fetchone()
    assert stats is not None
    arch, failing, zero, types, first, customers, total = stats
    assert 0.01 < arch < 0.06 and 0.02 < failing < 0.09 and 0.005 < zero < 0.05
    assert types >= 3 and 0.2 < first < 0.4
    assert customers < total  # customers repeat
    assert (
        q(
            loaded,
            "select count(*) from raw.attributions where attribution_type"
            " not in ('click', 'view', 'discount_code', 'sms')",
        )
        == 0
    )
    # referential consistency: every attribution names a recipient of its campaign
    assert (
        q(
            loaded,
            "select count(*) from raw.attributions a where not exists (select 1 from"
            " raw.campaign_recipients r where r.organization_id = a.organization_id and"
            " r.campaign_id = a.campaign_id and r.recipient_id = a.recipient_id"
            " and r.is_holdout = a.is_holdout)",
        )
        == 0
    )
    assert (
        q(
            loaded,
            "select count(*) from raw.campaign_recipients r join raw.campaigns c on c.id = r.campaign_id"
            " where c.organization_id <> r.organization_id or r.sent_at < c.created_at",
        )
        == 0
    )
    assert (
        q(
            loaded,
            "select count(*) from raw.attributions where created_at < ordered_at"
            " or updated_at < created_at",
        )
        == 0
    )
    # holdout converts slightly less than treatment
    conv = dict(
        loaded.execute(
            "select r.is_holdout, count(a.id)::float / count(distinct r.id) from raw.campaign_recipients r"
            " left join raw.attributions a on a.campaign_id = r.campaign_id and a.recipient_id = r.recipient_id"
            " group by 1"
        ).fetchall()
    )
    assert conv[True] < conv[False]
    # rows around both 2026 US DST switches (2026-03-08 07:00Z, 2026-11-01 06:00Z)
    for tr in ("2026-03-08 07:00+00", "2026-11-01 06:00+00"):
        assert (
            q(
                loaded,
                "select count(*) from raw.attributions where organization_id = 1 and"
                " ordered_at between %s::timestamptz - interval '3 hours' and %s::timestamptz + interval '3 hours'",
                tr,
                tr,
            )
            >= 3
        )  # type: ignore[operator]


def test_snapshots_domain(loaded: psycopg.Connection) -> None:
    assert q(loaded, "select count(*) from raw.event_sources where not is_active") == 1
    assert (
        q(
            loaded,
            "select count(*) from raw.analytics_events e where not exists"
            " (select 1 from raw.event_sources s where s.id = e.source_id)",
        )
        == 0
    )
    statuses = dict(
        loaded.execute("select status, count(*) from raw.analytics_events group by 1").fetchall()
    )
    assert set(statuses) == {"completed", "failed", "pending", "retried"}
    assert max(statuses, key=statuses.__getitem__) == "completed"
    assert q(loaded, "select count(distinct entity_id) from raw.analytics_events") > 20  # type: ignore[operator]
    assert (
        q(
            loaded,
            "select count(*) from raw.analytics_events where processing_ms < 0 or amount_cents < 0",
        )
        == 0
    )


def test_analytics_events_exact_count_at_scale_1_formula() -> None:
    from orchestration.datagen import _tables

    ctx = _tables.Ctx(scale=1.0, seed=1, now=int(NOW.timestamp()))
    assert ctx.n(25_000, 50) == 25_000


def test_support_domain(loaded: psycopg.Connection) -> None:
    tzs = [r[0] for r in loaded.execute("select reporting_timezone from raw.accounts")]
    assert None in tzs
    assert {"America/New_York", "Asia/Kathmandu", "Australia/Adelaide", "Asia/Kolkata"} <= set(tzs)
    names = {r[0] for r in loaded.execute("select distinct name from raw.reporting_events")}
    assert {
        "conversation_resolved",
        "first_response",
        "reply_time",
        "conversation_bot_resolved",
        "conversation_bot_handoff",
    } <= names
    nulls = loaded.execute(
        "select avg((user_id is null)::int), avg((inbox_id is null)::int) from raw.reporting_events"
    ).fetchone()
    assert nulls is not None and 0.08 < nulls[0] < 0.25 and 0.02 < nulls[1] < 0.1
    dup = loaded.execute(
        "select count(*), count(*) filter (where days > 1), count(*) filter (where inboxes > 1) from ("
        " select conversation_id, count(distinct (created_at at time zone 'UTC')::date) days,"
        " count(distinct inbox_id) inboxes from raw.reporting_events"
        " where name = 'conversation_bot_handoff' group by 1 having count(*) > 1) d"
    ).fetchone()
    assert dup is not None and dup[0] > 0 and dup[1] > 0 and dup[2] > 0
    assert (
        q(
            loaded,
            "select count(*) from raw.reporting_events where event_start_time > event_end_time"
            " or value < 0 or value_in_business_hours > value",
        )
        == 0
    )
    assert (
        q(
            loaded,
            "select count(*) from raw.reporting_events e left join raw.agents g on g.id = e.user_id"
            " left join raw.inboxes i on i.id = e.inbox_id where (e.user_id is not null and"
            " g.account_id is distinct from e.account_id) or (e.inbox_id is not null and"
            " i.account_id is distinct from e.account_id)",
        )
        == 0
    )


def test_conversations_and_messages(loaded: psycopg.Connection) -> None:
    """Issue 18: every reporting event's conversation exists in its account; members
    (inbox, assignee, team, label) belong to the conversation's account; messages are
    incoming / outgoing / activity, none before its conversation began."""
    orphans = q(
        loaded,
        "select count(*) from raw.reporting_events e left join raw.conversations c"
        " on c.id = e.conversation_id where c.account_id is distinct from e.account_id",
    )
    assert orphans == 0
    foreign = q(
        loaded,
        "select count(*) from raw.conversations c left join raw.teams t on t.id = c.team_id"
        " left join raw.agents g on g.id = c.assignee_id left join raw.inboxes i on i.id = c.inbox_id"
        " where (c.team_id is not null and t.account_id is distinct from c.account_id)"
        " or (c.assignee_id is not null and g.account_id is distinct from c.account_id)"
        " or i.account_id is distinct from c.account_id",
    )
    assert foreign == 0
    assert (
        q(
            loaded,
            "select count(*) from raw.conversation_labels cl join raw.labels l on l.id = cl.label_id"
            " join raw.conversations c on c.id = cl.conversation_id"
            " where l.account_id <> cl.account_id or c.account_id <> cl.account_id",
        )
        == 0
    )
    assert q(loaded, "select count(*) from raw.conversation_labels") > 0
    kinds = dict(
        loaded.execute("select message_type, count(*) from raw.messages group by 1").fetchall()
    )
    assert set(kinds) == {"incoming", "outgoing", "activity"}
    assert kinds["activity"] < kinds["incoming"] and kinds["activity"] < kinds["outgoing"]
    early = q(
        loaded,
        "select count(*) from raw.messages m join raw.conversations c on c.id = m.conversation_id"
        " where m.created_at < c.created_at or m.account_id <> c.account_id"
        " or m.inbox_id is distinct from c.inbox_id",
    )
    assert early == 0
    nulls = loaded.execute(
        "select avg((team_id is null)::int), avg((assignee_id is null)::int) from raw.conversations"
    ).fetchone()
    assert nulls is not None and 0.1 < nulls[0] < 0.4 and 0.05 < nulls[1] < 0.3


def test_commerce_domain(loaded: psycopg.Connection) -> None:
    assert (
        q(
            loaded,
            "select count(*) from raw.orders o join raw.shops s on s.id = o.shop_id"
            " where o.created_at < s.integration_created_at",
        )
        == 0
    )
    assert (
        q(
            loaded,
            "select count(*) from raw.shops where integration_created_at::date = %s::date",
            NOW,
        )
        >= 1
    )  # type: ignore[operator]
    assert (
        q(
            loaded,
            "select count(*) from raw.shops where integration_created_at > %s",
            NOW - timedelta(days=7),
        )
        >= 2
    )  # type: ignore[operator]
    # a shop with an idle day between its integration date and yesterday
    idle = q(
        loaded,
        """
        select count(*) from raw.shops s cross join lateral generate_series(
            (s.integration_created_at at time zone 'UTC')::date, %s::date - 1, interval '1 day') d
        where not exists (select 1 from raw.orders o where o.shop_id = s.id
            and (o.created_at at time zone 'UTC')::date = d::date)""",
        NOW,
    )
    assert idle > 0  # type: ignore[operator]
    cats = {
        r[0]
        for r in loaded.execute(
            "select distinct category from raw.emails where sent_at > %s",
            (NOW - timedelta(days=30),),
        )
    }
    assert cats == {"automation", "campaign", "transactional"}


def test_platform_domain(loaded: psycopg.Connection) -> None:
    statuses = {r[0] for r in loaded.execute("select distinct status from raw.executions")}
    assert statuses == {"succeeded", "failed", "cancelled"}
    assert (
        q(loaded, "select count(*) from raw.executions where duration_ms < 0 or credits_used < 0")
        == 0
    )
    assert q(loaded, "select count(distinct activity_type) from raw.user_activity") >= 4  # type: ignore[operator]
    assert (
        q(
            loaded,
            "select count(*) from raw.executions e where not exists"
            " (select 1 from raw.workspaces w where w.id = e.workspace_id)",
        )
        == 0
    )


def test_domains_subset_and_tiny_scale(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        counts = datagen.generate(conn, scale=0.01, seed=3, now=NOW, domains=["commerce"])
        assert set(counts) == {"accounts", "shops", "orders", "emails"}
        assert counts["accounts"] >= 3 and counts["shops"] >= 3
        assert q(conn, "select count(*) from raw.attributions") == 0
        with pytest.raises(datagen.DatagenError):
            datagen.generate(conn, scale=0.01, seed=3, now=NOW, domains=["nope"])


# ----------------------------------------------------------------------------- mutate


def test_mutate(empty_db_url: str) -> None:
    later = NOW + timedelta(minutes=20)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        datagen.generate(conn, scale=SCALE, seed=42, now=NOW)
        before_org = dict(
            conn.execute(
                "select id, (reporting_timezone, configuration)::text from raw.organizations"
            ).fetchall()
        )
        before_acc = dict(
            conn.execute("select id, reporting_timezone from raw.accounts").fetchall()
        )
        snap = {t: q(conn, f"select count(*) from raw.{t}") for t in EXPECTED_COLUMNS}
        counts = datagen.mutate(conn, seed=5, now=later)
        # every changed or inserted row carries updated_at = now; nothing else moved
        for t in EXPECTED_COLUMNS:
            assert (
                q(
                    conn,
                    f"select count(*) from raw.{t} where updated_at > %s and updated_at <> %s",
                    NOW,
                    later,
                )
                == 0
            ), t
        for t in (
            "attributions",
            "reporting_events",
            "analytics_events",
            "orders",
            "executions",
            "user_activity",
        ):
            assert counts[f"{t}.deleted"] > 0, t
            assert counts[f"{t}.inserted"] > 0 and counts[f"{t}.late_inserted"] > 0, t
        assert counts["emails.inserted"] > 0
        # issue 18: late and deleted messages, a team move, a reassignment, label changes
        assert counts["messages.deleted"] > 0 and counts["messages.late_inserted"] > 0
        assert counts["conversations.inserted"] > 0 and counts["messages.inserted"] > 0
        assert counts["conversations.team_moved"] == 1 and counts["conversations.reassigned"] == 1
        assert counts["conversation_labels.deleted"] > 0
        assert counts["conversation_labels.inserted"] > 0
        moved = counts["team_moved_conversation_id"]
        assert (
            q(
                conn,
                "select count(*) from raw.conversations c join raw.teams t on t.id = c.team_id"
                " where c.id = %s and c.updated_at = %s and t.account_id = c.account_id",
                moved,
                later,
            )
            == 1
        )
        assert (
            q(
                conn,
                "select count(*) from raw.messages where updated_at = %s and created_at < %s",
                later,
                later - timedelta(days=60),
            )
            > 0
        )  # type: ignore[operator]
        assert (
            q(
                conn,
                "select count(*) from raw.emails where updated_at = %s and sent_at > %s",
                later,
                later - timedelta(days=30),
            )
            == counts["emails.inserted"]
        )
        # late rows for old days (some > 60 days back), and rows for today
        assert (
            q(
                conn,
                "select count(*) from raw.attributions where updated_at = %s and ordered_at < %s",
                later,
                later - timedelta(days=60),
            )
            > 0
        )  # type: ignore[operator]
        assert (
            q(
                conn,
                "select count(*) from raw.reporting_events where updated_at = %s and created_at < %s",
                later,
                later - timedelta(days=60),
            )
            > 0
        )  # type: ignore[operator]
        assert (
            q(
                conn,
                "select count(*) from raw.attributions where ordered_at >= %s",
                later.replace(hour=0),
            )
            > 0
        )  # type: ignore[operator]
        # updates far outside the 2-day window, flips in both directions
        assert (
            q(
                conn,
                "select count(*) from raw.attributions where updated_at = %s and ordered_at < %s",
                later,
                later - timedelta(days=30),
            )
            > 10
        )  # type: ignore[operator]
        # the emptied (org, campaign, local day) bucket has no countable rows left
        org, camp = counts["emptied_bucket_org_id"], counts["emptied_bucket_campaign_id"]
        assert counts["attributions.bucket_archived"] > 0
        assert (
            q(
                conn,
                """
            select count(*) from raw.attributions a join raw.organizations o on o.id = a.organization_id
            where a.organization_id = %s and a.campaign_id = %s and a.updated_at = %s and a.archived
              and not exists (select 1 from raw.attributions b where b.organization_id = a.organization_id
                and b.campaign_id = a.campaign_id and not b.archived
                and (b.ordered_at at time zone o.reporting_timezone)::date
                  = (a.ordered_at at time zone o.reporting_timezone)::date)""",
                org,
                camp,
                later,
            )
            > 0
        )  # type: ignore[operator]
        after_org = dict(
            conn.execute(
                "select id, (reporting_timezone, configuration)::text from raw.organizations"
            ).fetchall()
        )
        changed = {k for k in before_org if before_org[k] != after_org[k]}
        assert (
            counts["timezone_changed_org_id"] in changed
            and counts["exclusions_changed_org_id"] in changed
        )
        after_acc = dict(conn.execute("select id, reporting_timezone from raw.accounts").fetchall())
        acc = counts["timezone_changed_account_id"]
        assert after_acc[acc] != before_acc[acc] and after_acc[acc] is not None
        assert q(conn, "select count(*) from raw.campaigns") == snap["campaigns"] + 1
        assert (
            q(
                conn,
                "select count(*) from raw.organizations where jsonb_typeof("
                "coalesce(configuration -> 'excluded_attributions', '[]')) <> 'array'",
            )
            == 0
        )


def test_mutate_seed_choices(new_database: Callable[[str], str]) -> None:
    results = []
    for seed in (1, 2):
        url = new_database("dg")
        with psycopg.connect(url, autocommit=True) as conn:
            datagen.generate(conn, scale=0.02, seed=42, now=NOW)
            results.append(datagen.mutate(conn, seed=seed, now=NOW + timedelta(minutes=5)))
    assert results[0]["timezone_changed_org_id"] != results[1]["timezone_changed_org_id"]
    assert results[0]["exclusions_changed_org_id"] != results[1]["exclusions_changed_org_id"]
    assert results[0] != results[1]


def test_mutate_refuses_empty(empty_db_url: str) -> None:
    with (
        psycopg.connect(empty_db_url, autocommit=True) as conn,
        pytest.raises(datagen.DatagenError),
    ):
        datagen.mutate(conn, seed=1, now=NOW)


# the tables a source freshness check watches (models/staging/*/_*__sources.yml: every
# table without `freshness: null`), with the column it reads (loaded_at_field)
FRESHNESS_WATCHED = (
    "campaign_recipients",
    "attributions",
    "analytics_events",
    "reporting_events",
    "messages",
    "orders",
    "emails",
    "executions",
    "user_activity",
)


@pytest.mark.parametrize("hour", [0, 7, 19])
def test_the_newest_row_of_every_watched_table_is_at_most_an_hour_old(
    empty_db_url: str, hour: int
) -> None:
    """A demo at the smallest test scale passes source freshness whatever the hour: the CI
    run of 2026-12-04 failed `tally health` because raw.analytics_events (250 rows over 420
    days at scale 0.01) happened to hold nothing from the last 24 h."""
    now = datetime(2026, 12, 4, hour, tzinfo=UTC)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        datagen.generate(conn, scale=0.01, seed=16, now=now, force=True)
        for table in FRESHNESS_WATCHED:
            (newest,) = conn.execute(f"select max(updated_at) from raw.{table}").fetchone()
            assert now - timedelta(hours=1) <= newest <= now, (table, newest)


def test_cli_force_says_the_marts_keep_the_replaced_rows_figures(
    new_database: Callable[[str], str],
) -> None:
    """Replaced rows keep their historical updated_at, so no tick reads them as changes:
    `tally datagen --force` says so, and where to build from them."""
    url = new_database("dgforce")
    proc = run_tally("datagen", "--scale", "0.01", "--force", url=url, check=True)
    assert "marts built before keep the old rows' figures" in proc.stdout
    assert "in a new database" in proc.stdout
    mutated = run_tally("datagen", "--mutate", url=url, check=True)
    assert "marts built before" not in mutated.stdout
