"""Data faults of issue 16 (F1, F4) against the real server: NULLs in every key column
of the order domain's raw tables, an invalid timezone and invalid configurations, then
ticks. After each tick the order marts equal the independent oracle
(tests/orders_expected.py, plain SQL over raw.*) and the watermark keeps advancing.

The process-level faults (kill -9, concurrent ticks, database stop) are in
tests/test_faults.py.
"""

from __future__ import annotations

import psycopg
import pytest
from conftest import execute, query
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


@pytest.mark.xfail(
    strict=True,
    reason="issue 16 F4 open: with every NULL row inserted at once, agg_order_running_totals"
    " of that organization differs from the oracle (~300 rows; the NULL ordered_at row in"
    " combination with the others, each alone passes) - not yet found",
)
def test_nulls_in_every_key_column_are_left_out_and_reported(built: str) -> None:
    """F4: a row with NULL in each column the marts rely on (and a recipient row without
    an arm): the tick lands, the marts equal the oracle (which leaves out the rows the
    sources yml declares not null, and reads the documented meaning of the others), the
    watermark advances, and assert_orders_raw_rules names table, column and count."""
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
