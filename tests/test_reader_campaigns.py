"""The campaign reader on real PostgreSQL: generated data + constructed rows.

Expected values come from the raw path (an independent SQL computation), plain SQL
aggregates written here, or hand-computed fixtures - never from the mart path itself.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from conftest import execute, query, run_tally

from orchestration import datagen, runtime
from orchestration.db import Database
from orchestration.errors import TallyError
from orchestration.reader.campaigns import bulk_campaign_stats, parse_recipients, rolling_stats

pytestmark = pytest.mark.slow

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)  # history 2024-04-07 .. 2025-06-01: both US DST switches
ORG = 1000  # the constructed organization (America/New_York, excludes 'sms')
CAMP, CAMP_NO_HOLDOUT = 100001, 100002
CAMP_SPAN = 100003  # a customer whose order days lie before, inside and after ranges


def _ts(day: str, hour: int, minute: int = 0) -> str:
    return f"{day} {hour:02d}:{minute:02d}:00 America/New_York"


# (campaign, recipient, customer, value, type, is_holdout, ordered_at)
CONSTRUCTED = [
    # mean-of-means case: 2025-03-03 one order of 100; 2025-03-04 three orders of 10
    (CAMP, 1, 777, "100.00", "click", False, _ts("2025-03-03", 10)),
    (CAMP, 2, 777, "10.00", "click", False, _ts("2025-03-04", 10)),
    (CAMP, 3, 778, "10.00", "view", False, _ts("2025-03-04", 11)),
    (CAMP, 4, 779, "10.00", "click", False, _ts("2025-03-04", 12)),
    # excluded attribution type: never counted
    (CAMP, 4, 779, "999.00", "sms", False, _ts("2025-03-04", 13)),
    # DST spring forward (2025-03-09 02:00 local does not exist): 01:30 EST and 03:30 EDT
    (CAMP, 5, 780, "20.00", "click", False, "2025-03-09 06:30:00+00"),
    (CAMP, 6, 781, "30.00", "click", False, "2025-03-09 07:30:00+00"),
    # late evening local = next UTC day
    (CAMP, 7, 782, "40.00", "click", False, "2025-03-10 03:30:00+00"),
    # holdout arm
    (CAMP, 41, 790, "50.00", "click", True, _ts("2025-03-04", 9)),
    (CAMP, 42, 791, "25.00", "click", True, _ts("2025-03-12", 9)),
    # the campaign without holdout
    (CAMP_NO_HOLDOUT, 1, 777, "15.00", "click", False, _ts("2025-03-05", 9)),
    # customer 800 on 03-02, 03-06 (twice) and 03-20; customer 801 on 03-06 only
    (CAMP_SPAN, 60, 800, "5.00", "click", False, _ts("2025-03-02", 10)),
    (CAMP_SPAN, 60, 800, "7.00", "click", False, _ts("2025-03-06", 10)),
    (CAMP_SPAN, 60, 800, "1.00", "view", False, _ts("2025-03-06", 15)),
    (CAMP_SPAN, 60, 800, "11.00", "click", False, _ts("2025-03-20", 10)),
    (CAMP_SPAN, 61, 801, "3.00", "click", False, _ts("2025-03-06", 11)),
]


@pytest.fixture(scope="module")
def db_url(tally_db: str) -> str:
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.1, seed=11, domains=["orders"], now=NOW)
    execute(
        tally_db,
        """
        insert into raw.organizations (id, name, reporting_timezone, configuration, updated_at)
        values (%s, 'Constructed', 'America/New_York', '{"excluded_attributions": ["sms"]}', now())
        """,
        (ORG,),
    )
    execute(
        tally_db,
        "insert into raw.campaigns (id, organization_id, name, created_at, updated_at) values "
        "(%s, %s, 'With holdout', '2025-03-01', now()), (%s, %s, 'No holdout', '2025-03-01', now()),"
        " (%s, %s, 'Spanning', '2025-03-01', now())",
        (CAMP, ORG, CAMP_NO_HOLDOUT, ORG, CAMP_SPAN, ORG),
    )
    recipients = (
        [(CAMP, r, r > 40) for r in range(1, 51)]
        + [(CAMP_NO_HOLDOUT, r, False) for r in range(1, 21)]
        + [(CAMP_SPAN, r, False) for r in (60, 61)]
    )
    with psycopg.connect(tally_db) as conn:
        conn.cursor().executemany(
            "insert into raw.campaign_recipients (id, organization_id, campaign_id, recipient_id,"
            " is_holdout, sent_at, updated_at) values"
            " ((select coalesce(max(id), 0) + 1 from raw.campaign_recipients), %s, %s, %s, %s,"
            " '2025-03-01', now())",
            [(ORG, c, r, h) for c, r, h in recipients],
        )
        conn.cursor().executemany(
            "insert into raw.attributions (id, organization_id, campaign_id, recipient_id,"
            " customer_id, order_id, order_value, attribution_type, is_holdout, is_first_purchase,"
            " is_subscription, discount_matched, is_new_subscriber, passes_rules, archived,"
            " ordered_at, created_at, updated_at) values"
            " ((select max(id) + 1 from raw.attributions), %s, %s, %s, %s, 'c', %s, %s, %s,"
            " true, false, false, false, true, false, %s, %s, now())",
            [(ORG, c, r, cu, v, t, h, at, at) for c, r, cu, v, t, h, at in CONSTRUCTED],
        )
    runtime.run_dbt(["run", "--select", "+path:models/marts/orders"], capture=True)
    return tally_db


@pytest.fixture(scope="module")
def db(db_url: str) -> Database:
    return Database(db_url, embedded=False)


def _same(a, b) -> None:
    da, db_ = a.to_dict(), b.to_dict()
    for key in ("source", "live"):
        da.pop(key), db_.pop(key)
    assert da == db_


def _busiest_org_days(url: str) -> list[tuple[int, date]]:
    return query(
        url,
        """
        select organization_id, min(ordered_at)::date from raw.attributions
        where organization_id < %s group by 1 order by count(*) desc limit 3
        """,
        (ORG,),
    )


# --------------------------------------------------------------------------- mart == raw


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2024, 4, 1), date(2025, 6, 1)),  # everything
        (date(2024, 11, 1), date(2024, 11, 5)),  # DST fall back (2024-11-03)
        (date(2025, 3, 8), date(2025, 3, 10)),  # DST spring forward (2025-03-09)
        (date(2025, 1, 15), date(2025, 4, 15)),  # 90 days
    ],
)
def test_mart_path_equals_raw_path(db: Database, db_url: str, start: date, end: date) -> None:
    orgs = [1, 2, 3, 4, ORG]
    for org in orgs:
        _same(
            bulk_campaign_stats(org, start, end, db=db),
            bulk_campaign_stats(org, start, end, source="raw", db=db),
        )
    # a campaign without holdout is among the generated ones (n // 20 have none)
    no_holdout = query(
        db_url,
        "select campaign_id from raw.campaign_recipients group by 1 having not bool_or(is_holdout)",
    )
    assert no_holdout


def test_summary_only_equals_raw(db: Database) -> None:
    for org in (1, 2, ORG):
        _same(
            bulk_campaign_stats(org, summary_only=True, db=db),
            bulk_campaign_stats(org, summary_only=True, source="raw", db=db),
        )


def test_against_plain_sql(db: Database, db_url: str) -> None:
    start, end = date(2024, 10, 1), date(2025, 2, 28)
    got = bulk_campaign_stats(1, start, end, db=db)
    expected = query(
        db_url,
        """
        select a.campaign_id, coalesce(a.is_holdout, false), count(*), sum(order_value),
            count(distinct customer_id)
        from raw.attributions as a join raw.organizations as o on o.id = a.organization_id
        where a.organization_id = 1 and passes_rules and not archived and order_value > 0
            and (ordered_at at time zone o.reporting_timezone)::date between %s and %s
            and not coalesce((o.configuration -> 'excluded_attributions') ? attribution_type, false)
        group by 1, 2
        """,
        (start, end),
    )
    assert expected
    for campaign_id, is_holdout, orders, revenue, customers in expected:
        c = got.campaign(campaign_id)
        arm = c.holdout if is_holdout else c.treatment
        assert (arm.total_orders, arm.revenue, arm.unique_customers) == (orders, revenue, customers)


def test_constructed_org_dst_and_no_holdout(db: Database) -> None:
    got = bulk_campaign_stats(ORG, date(2025, 3, 9), date(2025, 3, 9), db=db)
    t = got.campaign(CAMP).treatment
    assert (t.total_orders, t.revenue) == (3, Decimal("90.00"))  # both sides of the gap + 23:30 EDT
    nxt = bulk_campaign_stats(ORG, date(2025, 3, 1), date(2025, 3, 31), db=db)
    c = nxt.campaign(CAMP)
    assert c.treatment.total_orders == 7  # the sms order is excluded by the configuration
    assert c.treatment.revenue == Decimal("220.00")
    assert c.treatment.recipients == 40 and c.holdout.recipients == 10
    assert c.treatment.converted_recipients == 7 and c.holdout.converted_recipients == 2
    assert c.treatment.aov == pytest.approx(220 / 7)
    nh = nxt.campaign(CAMP_NO_HOLDOUT)
    assert nh.holdout is None
    assert not nh.experiment.has_holdout and nh.experiment.verdict == "insufficient_data"
    assert "no holdout" in nh.experiment.note


def test_ranges_inside_and_across_a_customers_order_days(db: Database, db_url: str) -> None:
    # the ranged path reads the running totals (built by the fixture) - not a fallback
    assert query(
        db_url,
        "select count(*) from marts.agg_order_running_totals where organization_id = %s"
        " and campaign_id = %s",
        (ORG, CAMP_SPAN),
    ) == [(3,)]
    # hand-computed: customer 800 bought 5.00 on 03-02, 8.00 on 03-06, 11.00 on 03-20;
    # customer 801 bought 3.00 on 03-06
    cases = {
        (date(2025, 3, 3), date(2025, 3, 5)): None,  # no order: the arm has nothing
        (date(2025, 3, 3), date(2025, 3, 19)): (3, Decimal("11.00"), 2, Decimal("73")),
        (date(2025, 3, 2), date(2025, 3, 6)): (4, Decimal("16.00"), 2, Decimal("178")),
        (date(2025, 3, 2), date(2025, 3, 20)): (5, Decimal("27.00"), 2, Decimal("585")),
        (date(2025, 3, 7), date(2025, 3, 20)): (1, Decimal("11.00"), 1, Decimal("121")),
        (date(2025, 3, 6), date(2025, 3, 6)): (3, Decimal("11.00"), 2, Decimal("73")),
    }
    for (start, end), expected in cases.items():
        t = bulk_campaign_stats(ORG, start, end, db=db).campaign(CAMP_SPAN).treatment
        got = (t.total_orders, t.revenue, t.unique_customers, t.customer_revenue_sq)
        assert got == (expected or (0, Decimal("0.00"), 0, Decimal("0"))), (start, end)
    # every range of March against the raw path (ranges spanning order days of 800)
    days = [date(2025, 3, 1) + timedelta(days=i) for i in range(0, 22, 3)]
    for start in days:
        for end in days:
            if start <= end:
                _same(
                    bulk_campaign_stats(ORG, start, end, db=db),
                    bulk_campaign_stats(ORG, start, end, source="raw", db=db),
                )


# --------------------------------------------------------------------------- compensation


def test_compensation_shared_customer(db: Database) -> None:
    start, end = date(2025, 3, 1), date(2025, 3, 31)
    # customer 777 bought via recipient 1 (excluded) and recipient 2 (kept): stays counted;
    # customer 778 only via recipient 3 (excluded): drops
    got = bulk_campaign_stats(ORG, start, end, exclude_recipients=[1, 3], db=db)
    t = got.campaign(CAMP).treatment
    assert t.total_orders == 5
    assert t.revenue == Decimal("110.00")
    assert t.unique_customers == 5  # 777, 779, 780, 781, 782
    assert t.recipients == 38 and t.converted_recipients == 5
    # customer 777's only order in the no-holdout campaign came via recipient 1: gone
    assert got.campaign(CAMP_NO_HOLDOUT).treatment.unique_customers == 0
    _same(got, bulk_campaign_stats(ORG, start, end, exclude_recipients=[1, 3], source="raw", db=db))
    summary = bulk_campaign_stats(ORG, summary_only=True, exclude_recipients=[1, 3], db=db)
    assert summary.campaign(CAMP).treatment.unique_customers == 5
    _same(
        summary,
        bulk_campaign_stats(ORG, summary_only=True, exclude_recipients=[1, 3], source="raw", db=db),
    )


def test_compensation_generated(db: Database, db_url: str) -> None:
    # recipients of org 1 with several orders, some of whose customers also bought through others
    rows = query(
        db_url,
        """
        select recipient_id from raw.attributions where organization_id = 1
        group by 1 order by count(*) desc, 1 limit 60
        """,
    )
    excl = [r[0] for r in rows]
    for start, end in [
        (date(2024, 4, 1), date(2025, 6, 1)),
        (date(2024, 12, 1), date(2025, 2, 28)),
    ]:
        marts = bulk_campaign_stats(1, start, end, exclude_recipients=excl, db=db)
        raw = bulk_campaign_stats(1, start, end, exclude_recipients=excl, source="raw", db=db)
        _same(marts, raw)
        plain = bulk_campaign_stats(1, start, end, db=db)
        assert sum(c.treatment.total_orders for c in marts.campaigns) < sum(
            c.treatment.total_orders for c in plain.campaigns
        )
    _same(
        bulk_campaign_stats(1, summary_only=True, exclude_recipients=excl, db=db),
        bulk_campaign_stats(1, summary_only=True, exclude_recipients=excl, source="raw", db=db),
    )


# --------------------------------------------------------------------------- rolling


def test_rolling_aov_not_mean_of_means_and_zero_fill(db: Database) -> None:
    r = rolling_stats(ORG, CAMP, date(2025, 3, 2), date(2025, 3, 6), windows=(2, 7), db=db)
    t = {d.day: d for d in r.series(False)}
    assert len(r.days) == 10  # 5 days x 2 arms, zero-filled
    assert t[date(2025, 3, 2)].total_orders == 0 and t[date(2025, 3, 2)].aov is None
    assert t[date(2025, 3, 6)].total_orders == 0  # a day without orders is present
    w = t[date(2025, 3, 4)].windows[2]
    # 100 + 3 x 10 over 4 orders = 32.50, not the mean of daily AOVs (100 + 10) / 2 = 55
    assert (w.total_orders, w.revenue, w.aov) == (4, Decimal("130.00"), 32.5)
    assert w.unique_customers == 3  # 777 twice (two days), 778, 779
    assert t[date(2025, 3, 4)].unique_customers == 3
    assert t[date(2025, 3, 6)].windows[7].unique_customers == 3
    assert t[date(2025, 3, 6)].windows[2].unique_customers == 0
    h = {d.day: d for d in r.series(True)}
    assert h[date(2025, 3, 4)].revenue == Decimal("50.00")
    assert r.recipients == {False: 40, True: 10}


def test_rolling_equals_raw(db: Database, db_url: str) -> None:
    camps = query(
        db_url,
        "select organization_id, campaign_id from raw.attributions where organization_id <= 3"
        " group by 1, 2 order by count(*) desc limit 3",
    )
    for org, camp in camps:
        for start, end, wins in [
            (date(2024, 6, 1), date(2025, 5, 31), (7, 30)),
            (date(2024, 10, 28), date(2024, 11, 8), (1, 3)),
        ]:
            _same(
                rolling_stats(org, camp, start, end, wins, db=db),
                rolling_stats(org, camp, start, end, wins, source="raw", db=db),
            )


def test_live_tail(db: Database, db_url: str) -> None:
    today = datetime.now(UTC)
    execute(
        db_url,
        "insert into raw.attributions (id, organization_id, campaign_id, recipient_id, customer_id,"
        " order_value, attribution_type, is_holdout, is_first_purchase, is_subscription,"
        " discount_matched, is_new_subscriber, passes_rules, archived, ordered_at, created_at,"
        " updated_at) values ((select max(id) + 1 from raw.attributions), %s, %s, 2, 799, 12.34,"
        " 'click', false, true, false, false, false, true, false, now(), now(), now())",
        (ORG, CAMP),
    )
    lo, hi = (today - timedelta(days=2)).date(), (today + timedelta(days=2)).date()
    stale = bulk_campaign_stats(ORG, lo, hi, db=db)
    live = bulk_campaign_stats(ORG, lo, hi, include_live=True, db=db)
    assert live.live
    assert (
        live.campaign(CAMP).treatment.total_orders
        == stale.campaign(CAMP).treatment.total_orders + 1
    )
    _same(live, bulk_campaign_stats(ORG, lo, hi, source="raw", db=db))
    roll = rolling_stats(ORG, CAMP, lo, hi, (7,), include_live=True, db=db)
    assert sum(d.total_orders for d in roll.series(False)) == 1
    _same(roll, rolling_stats(ORG, CAMP, lo, hi, (7,), source="raw", db=db))


# --------------------------------------------------------------------------- one home per rule


def test_mart_path_reads_the_rules_from_dbt_not_raw(db: Database, db_url: str) -> None:
    """Issue 17 item 7: the live tail, the excluded-recipient corrections and the
    configuration check read dbt's views (int_orders__attributions_qualified,
    int_orders__organizations_validated). With every privilege on raw.attributions and
    raw.organizations revoked from tally_reader (in a transaction that is rolled back),
    the mart path still answers - and equals the raw oracle computed beforehand (the
    summary: equals itself with the privileges - the totals mart is not live and
    test_live_tail added a raw row after the build; summary == raw is tested above)."""
    today = datetime.now(UTC).date()
    lo, hi = today - timedelta(days=400), today + timedelta(days=1)
    excl = [1, 3, 41]
    oracle = [
        bulk_campaign_stats(ORG, lo, hi, exclude_recipients=excl, source="raw", db=db),
        bulk_campaign_stats(ORG, summary_only=True, exclude_recipients=excl, db=db),
        rolling_stats(ORG, CAMP, lo, hi, (7,), source="raw", db=db),
    ]
    with psycopg.connect(db_url, row_factory=psycopg.rows.dict_row) as conn:
        conn.execute("revoke all on raw.attributions, raw.organizations from tally_reader")
        conn.execute("set role tally_reader")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select organization_id from raw.attributions limit 1")
        conn.rollback()
        conn.execute("revoke all on raw.attributions, raw.organizations from tally_reader")
        conn.execute("set role tally_reader")
        got = [
            bulk_campaign_stats(ORG, lo, hi, exclude_recipients=excl, include_live=True, db=conn),
        ]
        for call in (
            lambda: bulk_campaign_stats(ORG, summary_only=True, exclude_recipients=excl, db=conn),
            lambda: rolling_stats(ORG, CAMP, lo, hi, (7,), include_live=True, db=conn),
        ):
            conn.execute("revoke all on raw.attributions, raw.organizations from tally_reader")
            conn.execute("set role tally_reader")
            got.append(call())
    assert got[0].live and got[2].live  # the live tail was read (today is in the range)
    assert sum(c.treatment.total_orders for c in got[0].campaigns) > 0
    for g, o in zip(got, oracle, strict=True):
        _same(g, o)


def test_invalid_configuration_is_named_from_the_validated_view(db: Database, db_url: str) -> None:
    """The reader's configuration check is dbt's (int_orders__organizations_validated):
    one line naming what to fix, for a zone that is no IANA name and for exclusions
    that are not a JSON array of strings."""
    day = date(2025, 3, 4)
    cases = [
        ("reporting_timezone = 'Mars/Olympus_Mons'", "invalid reporting timezone"),
        ("""configuration = '{"excluded_attributions": "sms"}'""", "not a JSON array of strings"),
        ("""configuration = '{"excluded_attributions": ["sms", 1]}'""", "not a JSON array"),
    ]
    for assignment, message in cases:
        execute(db_url, f"update raw.organizations set {assignment} where id = %s", (ORG,))
        try:
            with pytest.raises(TallyError, match=message) as err:
                bulk_campaign_stats(ORG, day, day, db=db)
            assert "\n" not in str(err.value)
        finally:
            execute(
                db_url,
                "update raw.organizations set reporting_timezone = 'America/New_York',"
                """ configuration = '{"excluded_attributions": ["sms"]}' where id = %s""",
                (ORG,),
            )
    assert bulk_campaign_stats(ORG, day, day, db=db).campaign(CAMP).treatment.total_orders == 3


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda db: bulk_campaign_stats(424242, date(2025, 1, 1), date(2025, 1, 2), db=db),
            "does not exist",
        ),
        (lambda db: bulk_campaign_stats(1, date(2025, 1, 2), date(2025, 1, 1), db=db), "reversed"),
        (lambda db: bulk_campaign_stats(1, date(2015, 1, 1), date(2025, 1, 1), db=db), "5 years"),
        (
            lambda db: bulk_campaign_stats(
                1, date(2025, 1, 1), date(2025, 1, 2), exclude_recipients=["x"], db=db
            ),
            "malformed",
        ),
        (
            lambda db: rolling_stats(1, 999999, date(2025, 1, 1), date(2025, 1, 2), db=db),
            "does not exist",
        ),
        (
            lambda db: rolling_stats(ORG, 1, date(2025, 1, 1), date(2025, 1, 2), db=db),
            "belongs to organization",
        ),
        (
            lambda db: rolling_stats(
                ORG, CAMP, date(2025, 1, 1), date(2025, 1, 2), windows=(0,), db=db
            ),
            "window",
        ),
    ],
)
def test_bad_input(db: Database, call, message: str) -> None:
    with pytest.raises(TallyError, match=message) as err:
        call(db)
    assert "\n" not in str(err.value)


def test_parse_recipients(tmp_path) -> None:
    f = tmp_path / "r.txt"
    f.write_text("# excluded\n3\n1, 2\n")
    assert parse_recipients(str(f)) == (1, 2, 3)
    assert parse_recipients("5,4 4") == (4, 5)
    with pytest.raises(TallyError, match="malformed"):
        parse_recipients("1;2")
    with pytest.raises(TallyError, match="malformed"):
        parse_recipients([1, True])


def test_reader_role_cannot_read_other_raw_columns(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute("set role tally_reader")
        conn.execute("select organization_id, order_value from raw.attributions limit 1")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select order_id from raw.attributions limit 1")


# --------------------------------------------------------------------------- CLI


def test_cli_formats(db_url: str, tmp_path) -> None:
    args = ["report", "campaigns", "--org", str(ORG), "--from", "2025-03-01", "--to", "2025-03-31"]
    out = run_tally(*args, "--format", "json", url=db_url, check=True).stdout
    data = json.loads(out)
    c = next(c for c in data["campaigns"] if c["campaign_id"] == CAMP)
    assert c["treatment"]["total_orders"] == 7 and c["treatment"]["revenue"] == 220.0
    assert c["experiment"]["verdict"] in ("insufficient_data", "inconclusive")

    rows = list(
        csv.DictReader(
            io.StringIO(run_tally(*args, "--format", "csv", url=db_url, check=True).stdout)
        )
    )
    assert {(r["campaign_id"], r["arm"]) for r in rows} >= {
        (str(CAMP), "treatment"),
        (str(CAMP), "holdout"),
    }

    table = run_tally(*args, "--exclude-recipients", "1,3", url=db_url, check=True).stdout
    assert "With holdout" in table and "2 recipients excluded" in table

    ids = tmp_path / "ids.txt"
    ids.write_text("1\n3\n")
    j = json.loads(
        run_tally(
            *args, "--exclude-recipients", str(ids), "--format", "json", url=db_url, check=True
        ).stdout
    )
    assert (
        next(c for c in j["campaigns"] if c["campaign_id"] == CAMP)["treatment"]["unique_customers"]
        == 5
    )

    plot = tmp_path / "r.png"
    roll = run_tally(
        "report",
        "rolling",
        "--org",
        str(ORG),
        "--campaign",
        str(CAMP),
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-14",
        "--window",
        "2",
        "--format",
        "csv",
        "--plot",
        str(plot),
        url=db_url,
        check=True,
    )
    rows = list(csv.DictReader(io.StringIO(roll.stdout)))
    assert len(rows) == 28 and "aov_2d" in rows[0]
    assert plot.stat().st_size > 1000

    bad = run_tally(
        "report",
        "campaigns",
        "--org",
        "1",
        "--from",
        "2025-02-01",
        "--to",
        "2025-01-01",
        url=db_url,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "reversed" in bad.stderr
    bad = run_tally(
        "report",
        "rolling",
        "--org",
        str(ORG),
        "--campaign",
        "1",
        "--from",
        "2025-01-01",
        "--to",
        "2025-01-02",
        url=db_url,
    )
    assert bad.returncode == 2 and "belongs to organization" in bad.stderr
