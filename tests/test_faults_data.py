"""Data faults of issue 16 (F1, F4) against the real server: NULLs in every key column
of the order domain's raw tables, an invalid timezone and invalid configurations, then
ticks. After each tick the order marts equal the independent oracle
(tests/orders_expected.py, plain SQL over raw.*) and the watermark keeps advancing.

The process-level faults (kill -9, concurrent ticks, database stop) are in
tests/test_faults.py.
"""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import psycopg.types.json
import pytest
from conftest import execute, query, run_tally
from orders_expected import QUALIFIED
from test_orders import assert_equivalent

from orchestration import datagen, runtime

pytestmark = pytest.mark.slow

MARTS = "path:models/marts/orders"

INSERT = """
insert into raw.attributions (organization_id, campaign_id, recipient_id, customer_id,
    order_id, order_value, attribution_type, is_holdout, is_first_purchase, is_subscription,
    discount_matched, is_new_subscriber, passes_rules, archived, ordered_at, created_at, updated_at)
select a.organization_id, {campaign}, {recipient}, {customer}, 'fault-' || a.id, {value}, {type},
    {holdout}, {first}, false, false, false, {rules}, {archived}, {ordered_at}, now(), now()
from raw.attributions as a
where a.id = %s
"""

# every column the order marts rely on, NULL in one new row each (copied from a real row)
NULL_COLUMNS = {
    "organization_id": {"org": "null"},
    "campaign_id": {"campaign": "null"},
    "recipient_id": {"recipient": "null"},
    "customer_id": {"customer": "null"},
    "order_value": {"value": "null"},
    "attribution_type": {"type": "null"},
    "is_holdout": {"holdout": "null"},
    "is_first_purchase": {"first": "null"},
    "passes_rules": {"rules": "null"},
    "archived": {"archived": "null"},
    "ordered_at": {"ordered_at": "null"},
}


def _insert(url: str, source_id: int, **overrides: str) -> None:
    values = {
        "campaign": "a.campaign_id",
        "recipient": "a.recipient_id",
        "customer": "a.customer_id",
        "value": "a.order_value + 1",
        "type": "a.attribution_type",
        "holdout": "a.is_holdout",
        "first": "a.is_first_purchase",
        "rules": "true",
        "archived": "false",
        "ordered_at": "now() - interval '1 day'",
    }
    org = overrides.pop("org", None)
    values.update(overrides)
    sql = INSERT.format(**values)
    if org is not None:
        sql = sql.replace("select a.organization_id,", f"select {org},")
    execute(url, sql, (source_id,))


def tick(check: bool = True):
    return runtime.run_dbt(["run", "--select", MARTS], check=check, capture=True, quiet=True)


def watermarks(url: str) -> dict[str, object]:
    return dict(query(url, "select mart, max(watermark) from ops.aggregation_progress group by 1"))


@pytest.fixture(scope="module")
def built(tally_db: str) -> str:
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.03, seed=11, domains=["orders"])
    runtime.run_dbt(
        ["build", "--select", f"+{MARTS}", "path:models/staging/orders"],
        check=True,
        capture=True,
        quiet=True,
    )
    assert_equivalent(tally_db, "first build")
    return tally_db


def _recent_row(url: str, org: int | None = None) -> tuple[int, int]:
    """A qualifying attribution of the last days (id, organization)."""
    return query(
        url,
        """select attribution_id, organization_id from intermediate.int_orders__attributions_qualified
           where ordered_at > now() - interval '5 days' and (%s::bigint is null or organization_id = %s)
           order by attribution_id limit 1""",
        (org, org),
    )[0]


def test_null_campaign_row_does_not_stop_the_ticks(built: str) -> None:
    """F1: a row without a campaign, yesterday, next to a late change of another campaign
    earlier in the same 28-day block of the running totals: the tick used to fail with a
    duplicate key in agg_order_running_totals (the keyless row stood for the whole day,
    whose block-to-end range overlapped the campaign's), on every later tick."""
    url = built
    row_id, org = _recent_row(url)
    _insert(url, row_id, campaign="null")
    # a late change of a campaign of the same organization, a few days earlier
    execute(
        url,
        """update raw.attributions set order_value = order_value + 1, updated_at = now()
           where id = (select attribution_id from intermediate.int_orders__attributions_qualified
                       where organization_id = %s and ordered_at < now() - interval '2 days'
                         and ordered_at > now() - interval '20 days'
                       order by attribution_id limit 1)""",
        (org,),
    )
    before = watermarks(url)
    tick()
    after = watermarks(url)
    assert all(after[m] > before[m] for m in before), (before, after)
    assert_equivalent(url, "after a row without campaign")
    # and a mutate round on top keeps them exact
    with psycopg.connect(url) as conn:
        datagen.mutate(conn, seed=161)
    tick()
    assert_equivalent(url, "after a mutate round")


def test_nulls_in_every_key_column_are_left_out_and_reported(built: str) -> None:
    """F4: a row with NULL in each column the marts rely on (and a recipient row without
    an arm), all in one tick: the tick lands, the marts equal the oracle (which leaves
    out the rows the sources yml declares not null, and reads the documented meaning of
    the others), the watermark advances, and assert_orders_raw_rules names table, column
    and count. The NULL ordered_at copy of a changed customer's order used to become an
    affected row without a day through `follow_earlier` - read by bucket_replace as the
    whole organization - and left agg_order_running_totals ~300 rows off the oracle."""
    url = built
    row_id, _org = _recent_row(url)
    for overrides in NULL_COLUMNS.values():
        _insert(url, row_id, **dict(overrides))
    execute(
        url,
        """insert into raw.campaign_recipients (organization_id, campaign_id, recipient_id, is_holdout,
               sent_at, updated_at)
           select organization_id, campaign_id, recipient_id + 1000000, null, sent_at, now()
           from raw.campaign_recipients order by id limit 1""",
    )
    before = watermarks(url)
    tick()
    after = watermarks(url)
    assert all(after[m] > before[m] for m in before), (before, after)
    assert_equivalent(url, "after NULLs in every key column")
    result = runtime.run_dbt(
        ["test", "--select", "assert_orders_raw_rules"], check=False, capture=True, quiet=True
    )
    assert result.returncode != 0
    found = dict(
        ((t, c), n)
        for t, c, n in query(
            url, "select table_name, column_name, null_rows from ops.assert_orders_raw_rules"
        )
    )
    for column in ("organization_id", "campaign_id", "ordered_at", "order_value"):
        assert found[("raw.attributions", column)] >= 1, found
    for column in ("attribution_type", "is_holdout", "passes_rules", "archived"):
        assert found[("raw.attributions", column)] >= 1, found
    assert found[("raw.campaign_recipients", "is_holdout")] >= 1, found
    # documented meanings (guest order, no recipient, not a first purchase): no finding
    assert ("raw.attributions", "customer_id") not in found


def test_invalid_timezone_and_configurations_skip_only_their_tenant(built: str) -> None:
    """An invalid IANA name and three malformed excluded_attributions: those tenants are
    skipped (rows kept as they were), every other tenant lands and stays exact."""
    url = built
    orgs = [o for (o,) in query(url, "select id from raw.organizations order by id")]
    bad = orgs[:4]
    keep = tuple(bad)
    before = {
        o: query(
            url,
            "select count(*), coalesce(sum(revenue), 0) from marts.agg_order_daily"
            " where organization_id = %s",
            (o,),
        )[0]
        for o in bad
    }
    saved = query(
        url,
        "select id, reporting_timezone, configuration from raw.organizations where id = any(%s)",
        (bad,),
    )
    try:
        _break_and_tick(url, orgs, bad, keep, before)
    finally:
        # the tenants are fixed again: the next tick rebuilds them whole
        for org, tz, config in saved:
            execute(
                url,
                "update raw.organizations set reporting_timezone = %s, configuration = %s,"
                " updated_at = now() where id = %s",
                (tz, psycopg.types.json.Jsonb(config), org),
            )


def _break_and_tick(url: str, orgs: list, bad: list, keep: tuple, before: dict) -> None:
    execute(
        url,
        "update raw.organizations set reporting_timezone = 'Mars/Olympus', updated_at = now()"
        " where id = %s",
        (bad[0],),
    )
    for org, config in zip(bad[1:], ('"view"', "[1, 2]", '{"view": true}'), strict=True):
        execute(
            url,
            "update raw.organizations set configuration = jsonb_build_object("
            "'excluded_attributions', %s::jsonb), updated_at = now() where id = %s",
            (config, org),
        )
    row_id, _ = _recent_row(url, orgs[-1])
    _insert(url, row_id)
    for _ in range(2):
        before_marks = watermarks(url)
        tick()
        after_marks = watermarks(url)
        assert all(after_marks[m] > before_marks[m] for m in before_marks)
    with psycopg.connect(url) as conn:
        from orders_expected import differences

        for mart in (
            "agg_order_daily",
            "agg_order_running_totals",
            "agg_campaign_recipient_totals",
        ):
            n, examples = differences(conn, mart, exclude_orgs=keep)
            assert n == 0, (mart, examples)
    for o in bad:
        now = query(
            url,
            "select count(*), coalesce(sum(revenue), 0) from marts.agg_order_daily"
            " where organization_id = %s",
            (o,),
        )[0]
        assert now == before[o], o


# ---------------------------------------------------------------------------- F2

# the old definition (distinct recipients with a qualifying order, by the arm recorded
# on the order) against the arm's recipients: > 0 rows = the data of issue 16 F2
OLD_DEFINITION_OVER = f"""
with q as ({QUALIFIED}),
conv as (
    select organization_id, campaign_id, coalesce(is_holdout, false) as h,
           count(distinct recipient_id) as n
    from q group by 1, 2, 3
),
r as (
    select organization_id, campaign_id, is_holdout as h, count(*) as n
    from raw.campaign_recipients where is_holdout is not null group by 1, 2, 3
)
select conv.organization_id, conv.campaign_id, conv.h, coalesce(r.n, 0), conv.n
from conv left join r using (organization_id, campaign_id, h)
where conv.n > coalesce(r.n, 0) and coalesce(r.n, 0) > 0
order by 1, 2, 3
"""


def _over(url: str) -> list[tuple]:
    return query(
        url,
        "select organization_id, campaign_id, is_holdout, recipients, converted_recipients"
        " from marts.agg_campaign_recipient_totals where converted_recipients > recipients",
    )


def test_reattributed_orders_never_convert_more_than_recipients(built: str) -> None:
    """F2: orders re-attributed to a campaign where their recipient is not a recipient
    (datagen --mutate does it; here also on purpose, into a campaign's holdout arm):
    by the order's arm that arm had more converted than recipients and `tally report
    campaigns` crashed (math domain error). Converted = recipient rows of the arm as
    sent with a qualifying order: mart == oracle, never above recipients, the report
    exits 0 - also after changes of campaign_recipients alone (arm flip, delete,
    insert), which reach the ledger through the recipient rows' recipient_id."""
    url = built
    with psycopg.connect(url) as conn:
        for seed in (201, 202):
            datagen.mutate(conn, seed=seed)
    # the campaign of a valid organization with the smallest holdout arm
    org, camp, held = query(
        url,
        """select r.organization_id, r.campaign_id, count(*) from raw.campaign_recipients as r
           join intermediate.int_orders__attributions_qualified as q
             on q.organization_id = r.organization_id and q.campaign_id = r.campaign_id
           where r.is_holdout group by 1, 2 order by 3, 2 limit 1""",
    )[0]
    # qualifying orders of held + 5 recipients who were never sent this campaign, moved
    # into it, recorded in its holdout arm
    execute(
        url,
        """update raw.attributions set campaign_id = %(c)s, is_holdout = true, updated_at = now()
           where id in (
               select min(q.attribution_id) from intermediate.int_orders__attributions_qualified as q
               where q.organization_id = %(o)s and q.campaign_id <> %(c)s and q.recipient_id is not null
                 and q.recipient_id not in (
                     select recipient_id from raw.campaign_recipients
                     where campaign_id = %(c)s and recipient_id is not null)
               group by q.recipient_id order by q.recipient_id limit %(n)s)""",
        {"o": org, "c": camp, "n": held + 5},
    )
    over = query(url, OLD_DEFINITION_OVER)
    assert (org, camp, True) in {r[:3] for r in over}, over  # the data
    tick()
    assert_equivalent(url, "after re-attributed orders")
    assert _over(url) == []
    for source in ("marts", "raw"):
        run_tally(
            "report", "campaigns", "--org", str(org), "--summary-only", "--source", source,
            url=url, check=True,
        )  # fmt: skip
        run_tally(
            "report", "campaigns", "--org", str(org), "--from", str(date.today() - timedelta(days=1500)),
            "--to", str(date.today() + timedelta(days=1)), "--format", "json", "--source", source,
            url=url, check=True,
        )  # fmt: skip
    # campaign_recipients changes alone: a converted holdout recipient deleted, a
    # converted treatment recipient moved to the holdout arm, a treatment recipient row added
    # for one of the moved orders' recipients (it converts now)
    for sql in (
        """delete from raw.campaign_recipients
           where id = (select min(r.id) from raw.campaign_recipients as r
                       join intermediate.int_orders__attributions_qualified as q
                         on q.campaign_id = r.campaign_id and q.recipient_id = r.recipient_id
                       where r.campaign_id = %(c)s and r.is_holdout)""",
        """update raw.campaign_recipients set is_holdout = not is_holdout, updated_at = now()
           where id = (select min(r.id) from raw.campaign_recipients as r
                       join intermediate.int_orders__attributions_qualified as q
                         on q.campaign_id = r.campaign_id and q.recipient_id = r.recipient_id
                       where r.campaign_id = %(c)s and not r.is_holdout)""",
        """insert into raw.campaign_recipients (organization_id, campaign_id, recipient_id,
               is_holdout, sent_at, updated_at)
           select %(o)s, %(c)s, max(q.recipient_id), false, now() - interval '30 days', now()
           from intermediate.int_orders__attributions_qualified as q
           where q.campaign_id = %(c)s and q.recipient_id not in (
               select recipient_id from raw.campaign_recipients
               where campaign_id = %(c)s and recipient_id is not null)""",
    ):
        execute(url, sql, {"o": org, "c": camp})
    before = query(
        url,
        "select is_holdout, recipients, converted_recipients from marts.agg_campaign_recipient_totals"
        " where organization_id = %s and campaign_id = %s order by 1",
        (org, camp),
    )
    tick()
    assert_equivalent(url, "after campaign_recipients changes")
    after = query(
        url,
        "select is_holdout, recipients, converted_recipients from marts.agg_campaign_recipient_totals"
        " where organization_id = %s and campaign_id = %s order by 1",
        (org, camp),
    )
    assert after != before
    assert _over(url) == []


def test_converted_above_recipients_fails_the_check_naming_the_arm(built: str) -> None:
    """F2: assert_orders_converted_within_recipients (an asset check of the mart) fails
    on a row with more converted than recipients, naming organization, campaign, arm."""
    url = built
    org, camp, hold, n = query(
        url,
        "select organization_id, campaign_id, is_holdout, recipients"
        " from marts.agg_campaign_recipient_totals where recipients > 0 order by 1, 2, 3 limit 1",
    )[0]
    ok = runtime.run_dbt(
        ["test", "--select", "assert_orders_converted_within_recipients"],
        check=False, capture=True, quiet=True,
    )  # fmt: skip
    assert ok.returncode == 0
    sql = (
        "update marts.agg_campaign_recipient_totals set converted_recipients = %s"
        " where organization_id = %s and campaign_id = %s and is_holdout = %s"
    )
    old = query(
        url,
        "select converted_recipients from marts.agg_campaign_recipient_totals"
        " where organization_id = %s and campaign_id = %s and is_holdout = %s",
        (org, camp, hold),
    )[0][0]
    execute(url, sql, (n + 37, org, camp, hold))
    try:
        result = runtime.run_dbt(
            ["test", "--select", "assert_orders_converted_within_recipients"],
            check=False, capture=True, quiet=True,
        )  # fmt: skip
        assert result.returncode != 0
        problem = query(url, "select problem from ops.assert_orders_converted_within_recipients")[
            0
        ][0]
        arm = "holdout" if hold else "treatment"
        assert problem == (
            f"organization {org}, campaign {camp}, {arm} arm: {n + 37} converted recipients"
            f" of {n} recipients"
        )
        # and the report does not crash on it
        run_tally("report", "campaigns", "--org", str(org), "--summary-only", url=url, check=True)
    finally:
        execute(url, sql, (old, org, camp, hold))
