"""Order marts (seed 000) against real PostgreSQL: mutation equivalence, DST, bad
configuration, mark-and-sweep under a concurrent reader.

Expected values come from tests/orders_expected.py - plain SQL over raw.* written
independently of the dbt models - or are hand-computed (DST).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from conftest import execute, query
from orders_expected import CUSTOMER_DAYS, EXPECTED, differences

from orchestration import datagen, runtime

pytestmark = pytest.mark.slow

MARTS = "path:models/marts/orders"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


# dbt project vars (read with var()); every other var is run-specific (tally.run_var)
PROJECT_VARS = {"orders_campaign_lookups_max"}


def dbt(*args: str, vars: dict | None = None, check: bool = True):
    """dbt on the project. Run-specific vars (window, rebuild scope, watermark lag) go
    through TALLY_RUN_VARS as Dagster passes them: a change of `--vars` makes dbt re-parse
    the whole project (~10 s) on this call and again on the next one without them."""
    cmd = list(args)
    project = {k: v for k, v in (vars or {}).items() if k in PROJECT_VARS}
    if project:
        cmd += ["--vars", json.dumps(project)]
    run = {k: v for k, v in (vars or {}).items() if k not in PROJECT_VARS}
    return runtime.run_dbt(cmd, check=check, capture=True, quiet=True, run_vars=run or None)


def _mismatch(expected: str, actual: str) -> str:
    """SQL: the number of rows in one of the two SELECTs and not (as often) in the other."""
    return f"""
        with expected as ({expected}), actual as ({actual})
        select count(*) from (
            (select * from expected except all select * from actual)
            union all
            (select * from actual except all select * from expected)
        ) as d
    """


# agg_order_running_totals__blocks against its mart's internal rows: per arm and block the last row's
# in-block totals, and the sum of the earlier blocks' (a few measures)
BLOCKS_MISMATCH = _mismatch(
    """
    select *, coalesce(sum(t_orders) over w, 0), coalesce(sum(t_revenue) over w, 0),
        coalesce(sum(t_product) over w, 0)
    from (
        select distinct on (organization_id, campaign_id, is_holdout, block_start)
            organization_id, campaign_id, is_holdout, block_start,
            cum_total_orders as t_orders, cum_revenue as t_revenue, cum_revenue_product as t_product
        from marts_internal.agg_order_running_totals
        order by organization_id, campaign_id, is_holdout, block_start, day_bucket desc
    ) as last
    window w as (partition by organization_id, campaign_id, is_holdout order by block_start
                 rows between unbounded preceding and 1 preceding)
    """,
    """
    select organization_id, campaign_id, is_holdout, block_start, total_total_orders, total_revenue,
        total_revenue_product, base_total_orders, base_revenue, base_revenue_product
    from marts_internal.agg_order_running_totals__blocks
    """,
)

# agg_order_running_totals__customer_days (the ledger its ticks take differences from)
# against raw's qualifying revenue per customer and local day
LEDGER_MISMATCH = _mismatch(
    CUSTOMER_DAYS,
    """
    select organization_id, campaign_id, is_holdout, customer_id, day_bucket, revenue
    from marts_internal.agg_order_running_totals__customer_days
    """,
)


def assert_equivalent(url: str, label: str) -> None:
    with psycopg.connect(url) as conn:
        for mart in EXPECTED:
            n, examples = differences(conn, mart)
            assert n == 0, f"{label}: {mart} differs from raw in {n} rows, e.g. {examples}"
        blocks = conn.execute(BLOCKS_MISMATCH).fetchone()[0]
        assert blocks == 0, (
            f"{label}: agg_order_running_totals__blocks differs from its mart in {blocks} rows"
        )
        ledger = conn.execute(LEDGER_MISMATCH).fetchone()[0]
        assert ledger == 0, (
            f"{label}: agg_order_running_totals__customer_days differs from raw in {ledger} rows"
        )


@pytest.fixture(scope="module")
def built(tally_db: str) -> str:
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.03, seed=11, domains=["orders"])
    dbt("build", "--select", f"+{MARTS}", "path:models/staging/orders")
    assert_equivalent(tally_db, "first build")
    return tally_db


def test_mutation_rounds_stay_equal_to_raw(built: str) -> None:
    url = built
    (tz_org,) = query(
        url, "select id from raw.organizations where reporting_timezone = 'UTC' order by id limit 1"
    )[0]
    for round_no, seed in enumerate((101, 102, 103), start=1):
        with psycopg.connect(url) as conn:
            counts = datagen.mutate(conn, seed=seed)
        assert counts.get("attributions.deleted", 0) > 0
        if round_no == 1:
            # archive flip and hard delete far outside the window (~300 days back)
            execute(
                url,
                """
                update raw.attributions set archived = not archived, updated_at = now()
                where id in (select id from raw.attributions
                             where ordered_at < now() - interval '300 days' order by id limit 5)""",
            )
            execute(
                url,
                """
                delete from raw.attributions
                where id in (select id from raw.attributions
                             where ordered_at < now() - interval '250 days' order by id desc limit 5)""",
            )
        if round_no == 2:
            # a whole (organization, campaign, local day) hard-deleted, 200 days back
            bucket = query(
                url,
                """
                select organization_id, campaign_id, day_bucket from marts.agg_order_daily
                where day_bucket < current_date - 200 order by total_orders desc limit 1""",
            )[0]
            execute(
                url,
                """
                delete from raw.attributions a using raw.organizations o
                where o.id = a.organization_id and a.organization_id = %s and a.campaign_id = %s
                  and (a.ordered_at at time zone o.reporting_timezone)::date = %s""",
                bucket,
            )
        if round_no == 3:
            # an exclusion change on a tenant (the tick rebuilds it whole) and a late row
            execute(
                url,
                """update raw.organizations set configuration = '{"excluded_attributions": ["click"]}',
                            updated_at = now() where id = %s""",
                (tz_org,),
            )
            execute(
                url,
                """
                insert into raw.attributions (organization_id, campaign_id, recipient_id, customer_id,
                    order_id, order_value, attribution_type, is_holdout, is_first_purchase, is_subscription,
                    discount_matched, is_new_subscriber, passes_rules, archived, ordered_at, created_at, updated_at)
                select organization_id, campaign_id, recipient_id, customer_id, 'late-1', 42.00, 'sms',
                    is_holdout, true, false, false, false, true, false, ordered_at - interval '1 hour', now(), now()
                from raw.attributions where ordered_at < now() - interval '380 days' order by id limit 1""",
            )
        # round 2: the per-campaign marts read their affected campaigns with one scan
        # instead of one index lookup per campaign (tally.orders_campaign_rows)
        dbt(
            "run",
            "--select",
            MARTS,
            vars={"orders_campaign_lookups_max": 0} if round_no == 2 else None,
        )
        assert_equivalent(url, f"round {round_no}")
        if round_no == 2:
            gone = query(
                url,
                """select count(*) from marts.agg_order_daily
                                 where organization_id = %s and campaign_id = %s and day_bucket = %s""",
                bucket,
            )
            assert gone == [(0,)]
        assert counts.get("attributions.moved", 0) > 0
        if counts.get("emptied_bucket_org_id"):
            assert counts["attributions.bucket_archived"] > 0
    modes = query(url, "select distinct mode from ops.mart_runs where mart = 'agg_order_daily'")
    assert {m for (m,) in modes} >= {"full", "tick"}
    progress = query(
        url,
        """select count(*) from ops.aggregation_progress p
                             join intermediate.int_orders__organizations_validated o on o.organization_id = p.tenant_id
                             where p.mart = 'agg_order_daily' and p.tenant_version = o.config_version""",
    )
    assert progress[0][0] == query(url, "select count(*) from raw.organizations")[0][0]


def test_late_change_recomputes_only_its_campaign_day(built: str) -> None:
    """The affected unit of the day marts is (organization, campaign, local day): a late
    update rewrites its own campaign's bucket and leaves the organization's other
    campaigns of that day alone (their run_id stays), and the marts stay exact."""
    url = built
    dbt("run", "--select", MARTS)
    org, day = query(
        url,
        """
        select organization_id, day_bucket from marts.agg_order_daily
        where day_bucket < current_date - 30
        group by 1, 2 having count(distinct campaign_id) >= 2
        order by day_bucket limit 1""",
    )[0]
    before = dict(
        query(
            url,
            """select campaign_id, max(run_id) from marts.agg_order_daily
                                where organization_id = %s and day_bucket = %s group by 1""",
            (org, day),
        )
    )
    campaign = min(before)
    execute(
        url,
        """
        update raw.attributions a set order_value = a.order_value + 1, updated_at = now()
        where a.id = (select q.attribution_id from intermediate.int_orders__attributions_qualified q
                      where q.organization_id = %s and q.campaign_id = %s and q.day_bucket = %s
                      order by q.attribution_id limit 1)""",
        (org, campaign, day),
    )
    dbt("run", "--select", MARTS)
    after = dict(
        query(
            url,
            """select campaign_id, max(run_id) from marts.agg_order_daily
                               where organization_id = %s and day_bucket = %s group by 1""",
            (org, day),
        )
    )
    assert after.keys() == before.keys()
    assert after[campaign] != before[campaign]
    assert {c: after[c] for c in after if c != campaign} == {
        c: before[c] for c in before if c != campaign
    }
    assert_equivalent(url, "after a late change of one campaign-day")


def _customer_with_order_days(url: str, customer_order: str) -> tuple:
    """A (organization, campaign, arm, customer) with the most order days (at least 3, all
    but the newest days) and those days in order; `customer_order` ('asc'/'desc') picks
    among equals, so two tests touch different customers."""
    org, campaign, holdout, customer = query(
        url,
        f"""
        select organization_id, campaign_id, is_holdout, customer_id
        from intermediate.int_orders__attributions_qualified
        where customer_id is not null and day_bucket < current_date - 5
        group by 1, 2, 3, 4 having count(distinct day_bucket) >= 3
        order by count(distinct day_bucket) desc, 1, 2, 4 {customer_order} limit 1""",
    )[0]
    days = [
        d
        for (d,) in query(
            url,
            """
        select distinct day_bucket from intermediate.int_orders__attributions_qualified
        where organization_id = %s and campaign_id = %s and is_holdout = %s and customer_id = %s
        order by 1""",
            (org, campaign, holdout, customer),
        )
    ]
    return org, campaign, holdout, customer, days


def _attribution_on(url: str, org: int, campaign: int, holdout: bool, customer: int, day) -> int:
    return query(
        url,
        """
        select attribution_id from intermediate.int_orders__attributions_qualified
        where organization_id = %s and campaign_id = %s and is_holdout = %s and customer_id = %s
            and day_bucket = %s order by attribution_id limit 1""",
        (org, campaign, holdout, customer, day),
    )[0][0]


def _change_value_and_tick(url: str, attribution: int, mart: str) -> str:
    """Raise one attribution's value, run a tick of the order marts, return `mart`'s run id."""
    execute(
        url,
        "update raw.attributions set order_value = order_value + 5, updated_at = now() where id = %s",
        (attribution,),
    )
    dbt("run", "--select", MARTS)
    return _last_run(url, mart)[0]


def test_pairs_follow_a_changed_order_to_the_customers_later_days(built: str) -> None:
    """agg_order_customer_day_pairs is recomputed per (campaign, day): a change to a
    customer's first order also rewrites the pair rows of that customer's later order
    days in the campaign (their revenue products include the first day), and no other
    day of the campaign is touched (no window days, no whole campaign)."""
    url = built
    dbt("run", "--select", MARTS)
    org, campaign, holdout, customer, days = _customer_with_order_days(url, "asc")
    run_id = _change_value_and_tick(
        url,
        _attribution_on(url, org, campaign, holdout, customer, days[0]),
        "agg_order_customer_day_pairs",
    )
    written = {
        d
        for (d,) in query(
            url,
            """select distinct day_bucket from marts.agg_order_customer_day_pairs
                                           where run_id = %s""",
            (run_id,),
        )
    }
    assert written == set(days)
    other = query(
        url,
        """select count(*) from marts.agg_order_customer_day_pairs
                          where run_id = %s and (organization_id, campaign_id) <> (%s, %s)""",
        (run_id, org, campaign),
    )
    assert other == [(0,)]
    assert_equivalent(url, "after a change to a customer's first order")


def test_running_totals_replace_a_campaign_from_its_customers_first_day(built: str) -> None:
    """agg_order_running_totals accumulates within 28-day blocks and rewrites a touched
    campaign from each block's earliest affected day to that block's end: a change to
    a customer's middle order day moves the by-earlier-day sums of all the customer's
    days, so the run writes rows of that campaign only, none before the customer's
    first day and none outside the blocks of the customer's days - and the mart (with
    its block bases) stays exact."""
    url = built
    dbt("run", "--select", MARTS)
    org, campaign, holdout, customer, days = _customer_with_order_days(url, "desc")
    run_id = _change_value_and_tick(
        url,
        _attribution_on(url, org, campaign, holdout, customer, days[1]),
        "agg_order_running_totals",
    )
    written = query(
        url,
        """select organization_id, campaign_id, is_holdout, day_bucket, block_start
                            from marts_internal.agg_order_running_totals where run_id = %s""",
        (run_id,),
    )
    assert {(o, c) for o, c, _, _, _ in written} == {(org, campaign)}
    assert min(d for _, _, _, d, _ in written) == days[0]
    epoch = date(2001, 1, 1)
    first_in_block: dict = {}
    for d in days:
        block = epoch + timedelta(days=28 * ((d - epoch).days // 28))
        first_in_block[block] = min(first_in_block.get(block, d), d)
    for _, _, _, day, block in written:
        assert block in first_in_block and day >= first_in_block[block], (day, block)
        assert block <= day < block + timedelta(days=28)
    assert_equivalent(url, "after a change to a customer's middle order day")


def test_running_totals_apply_the_changed_customers_difference(built: str) -> None:
    """agg_order_running_totals moves the pair measures of a changed customer's days by
    the difference of the customer's history now and as its customer-day ledger held it:
    an order handed to another customer of the campaign (both histories change), and an
    order of a third customer moved to a day before its first one. The mart and its
    ledger equal raw afterwards, and a tick that sees the same changes again (long
    watermark lag) writes no running-totals row."""
    url = built
    dbt("run", "--select", MARTS)
    org, campaign, holdout, customer, days = _customer_with_order_days(url, "asc")
    (other,) = query(
        url,
        """
        select customer_id from intermediate.int_orders__attributions_qualified
        where organization_id = %s and campaign_id = %s and customer_id is not null and customer_id <> %s
        group by 1 order by count(distinct day_bucket) desc, 1 limit 1""",
        (org, campaign, customer),
    )[0]
    handed = _attribution_on(url, org, campaign, holdout, customer, days[1])
    execute(
        url,
        "update raw.attributions set customer_id = %s, updated_at = now() where id = %s",
        (other, handed),
    )
    o2, c2, h2, third, days2 = _customer_with_order_days(url, "desc")
    moved = _attribution_on(url, o2, c2, h2, third, days2[-1])
    execute(
        url,
        "update raw.attributions set ordered_at = ordered_at - (%s::date - %s::date + 2) * interval '1 day',"
        " updated_at = now() where id = %s",
        (days2[-1], days2[0], moved),
    )
    dbt("run", "--select", MARTS)
    assert_equivalent(
        url, "after an order changed customer and one moved before its customer's first day"
    )
    dbt("run", "--select", MARTS, vars={"watermark_lag_minutes": 120})
    run_id, affected = _last_run(url, "agg_order_running_totals")
    assert affected >= 2  # the same campaign-days seen again
    assert query(
        url, "select count(*) from marts.agg_order_running_totals where run_id = %s", (run_id,)
    ) == [(0,)]
    assert_equivalent(url, "after seeing the same changes twice")


def test_recipient_totals_move_by_the_changed_customers_and_recipients(built: str) -> None:
    """agg_campaign_recipient_totals changes a campaign side by what its changed
    customers and recipients add or take away (its ledger) instead of re-reading the
    campaign: an order losing its customer, an order moving to the other side, a
    recipient added to a second campaign and one removed from a third. After the tick
    the mart equals raw and only those campaigns' rows are written; a tick that sees
    the same changes again (a long watermark lag) writes nothing and stays exact."""
    url = built
    dbt("run", "--select", MARTS)
    org, campaigns = query(
        url,
        """
        select t.organization_id, (array_agg(t.campaign_id order by t.campaign_id))[1:3]
        from marts.agg_campaign_recipient_totals t
        where t.total_orders > 2 and t.recipients > 2 and not t.is_holdout
        group by 1 having count(*) >= 3 order by 1 limit 1""",
    )[0]
    c1, c2, c3 = campaigns
    first, second = [
        a
        for (a,) in query(
            url,
            """
        select attribution_id from intermediate.int_orders__attributions_qualified
        where organization_id = %s and campaign_id = %s and customer_id is not null
        order by attribution_id limit 2""",
            (org, c1),
        )
    ]
    execute(
        url,
        "update raw.attributions set customer_id = null, updated_at = now() where id = %s",
        (first,),
    )
    execute(
        url,
        "update raw.attributions set is_holdout = not coalesce(is_holdout, false), updated_at = now()"
        " where id = %s",
        (second,),
    )
    execute(
        url,
        """insert into raw.campaign_recipients (organization_id, campaign_id, recipient_id, is_holdout,
                        sent_at, updated_at)
                    values (%s, %s, 987654321, false, now() - interval '200 days', now())""",
        (org, c2),
    )
    execute(
        url,
        """delete from raw.campaign_recipients where id = (
                        select min(id) from raw.campaign_recipients where organization_id = %s
                        and campaign_id = %s and not coalesce(is_holdout, false))""",
        (org, c3),
    )
    dbt("run", "--select", MARTS)
    run_id = _last_run(url, "agg_campaign_recipient_totals")[0]
    written = {
        c
        for (c,) in query(
            url,
            """select distinct campaign_id from marts.agg_campaign_recipient_totals
                                          where run_id = %s""",
            (run_id,),
        )
    }
    assert written == {c1, c2, c3}
    assert_equivalent(url, "after customer, side and recipient changes")
    dbt("run", "--select", MARTS, vars={"watermark_lag_minutes": 120})
    run_id, affected = _last_run(url, "agg_campaign_recipient_totals")
    assert affected >= 3  # the same campaigns seen again
    assert query(
        url, "select count(*) from marts.agg_campaign_recipient_totals where run_id = %s", (run_id,)
    ) == [(0,)]
    assert_equivalent(url, "after seeing the same changes twice")


def test_a_mart_without_its_ledger_or_block_table_asks_for_a_full_refresh(built: str) -> None:
    """A recipient-totals mart without its ledger (built by an older release) or a
    running-totals mart without its customer-day ledger or its block table cannot tick -
    the difference it would add has no base: the run stops with a message naming the
    command that rebuilds it, writes nothing, and that command makes them exact again."""
    url = built
    dbt("run", "--select", MARTS)
    both = ("agg_campaign_recipient_totals", "agg_order_running_totals")
    change = (
        "update raw.attributions set order_value = order_value + 1, updated_at = now()"
        " where id = (select min(attribution_id) from intermediate.int_orders__attributions_qualified)"
    )
    for dropped, message in [
        (
            (
                "agg_campaign_recipient_totals__recipients",
                "agg_order_running_totals__customer_days",
            ),
            ("has no ledger", "has no customer-day ledger"),
        ),
        (("agg_order_running_totals__blocks",), ("has no block table",)),
    ]:
        for table in dropped:
            # cascade: the view marts.agg_order_running_totals reads the block table
            execute(url, f"drop table marts_internal.{table} cascade")
        execute(url, change)
        stopped = both if len(dropped) > 1 else both[1:]
        tables = {"agg_order_running_totals": "marts_internal.agg_order_running_totals"}
        last_written = "select " + ", ".join(
            f"(select max(last_updated) from {tables.get(m, f'marts.{m}')})" for m in stopped
        )
        before = query(url, last_written)
        out = dbt("run", "--select", *both, check=False)
        assert out.returncode != 0
        assert all(m in out.stdout for m in message), out.stdout[-2000:]
        for mart in stopped:
            assert f"tally dbt -- run --full-refresh --select {mart}" in out.stdout
        assert query(url, last_written) == before
        dbt("run", "--select", *both, "--full-refresh")
        dbt("run", "--select", MARTS)  # the other order marts catch up with the change
        assert_equivalent(url, f"after the full refresh that rebuilt {', '.join(dropped)}")


def test_runs_of_a_mart_that_reads_its_own_rows_take_turns(built: str) -> None:
    """agg_campaign_recipient_totals adds differences to its own rows and ledger: a run
    that started while another holds the mart's lock waits for it (tally.mart_lock)
    instead of adding the same difference a second time, then finishes exact."""
    url = built
    key = "tally:mart:agg_campaign_recipient_totals"
    finished = threading.Event()
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(hashtext(%s))", (key,))
        execute(
            url,
            "update raw.attributions set order_value = order_value + 1, updated_at = now()"
            " where id = (select max(attribution_id) from intermediate.int_orders__attributions_qualified)",
        )
        worker = threading.Thread(
            target=lambda: (dbt("run", "--select", "agg_campaign_recipient_totals"), finished.set())
        )
        worker.start()
        waiting = []
        for _ in range(120):  # until the run's transaction waits on the lock
            waiting = query(
                url, "select pid from pg_locks where locktype = 'advisory' and not granted"
            )
            if waiting:
                break
            time.sleep(0.5)
        assert waiting, "the run never asked for the mart's lock"
        time.sleep(1)
        assert not finished.is_set()
        holder.execute("select pg_advisory_unlock(hashtext(%s))", (key,))
    worker.join(120)
    assert finished.is_set()
    dbt("run", "--select", MARTS)
    assert_equivalent(url, "after a run that waited for the mart's lock")


def _last_run(url: str, mart: str) -> tuple[str, int | None]:
    return query(
        url,
        "select run_id, affected_buckets from ops.mart_runs where mart = %s"
        " order by started_at desc limit 1",
        (mart,),
    )[0]


def test_tick_writes_only_the_rows_that_change(built: str) -> None:
    """bucket_replace keeps the rows its recomputation finds unchanged: a tick that
    re-reads the window without a change writes no row, and a late change of one
    campaign-day writes that bucket's rows and none of the window's."""
    url = built
    dbt("run", "--select", MARTS)
    dbt("run", "--select", MARTS)  # nothing changed since the previous tick
    for mart in EXPECTED:
        run_id, affected = _last_run(url, mart)
        if mart in ("agg_order_daily", "agg_order_customer_daily"):
            assert affected > 0, f"{mart}: the window's days are recomputed on every tick"
        assert query(url, f"select count(*) from marts.{mart} where run_id = %s", (run_id,)) == [
            (0,)
        ], mart
    org, campaign, day, holdout, attribution = query(
        url,
        """
        select q.organization_id, q.campaign_id, q.day_bucket, q.is_holdout, q.attribution_id
        from intermediate.int_orders__attributions_qualified q
        where q.day_bucket < current_date - 30
        order by q.attribution_id limit 1""",
    )[0]
    execute(
        url,
        "update raw.attributions set order_value = order_value + 1, updated_at = now() where id = %s",
        (attribution,),
    )
    dbt("run", "--select", MARTS)
    run_id, affected = _last_run(url, "agg_order_daily")
    assert affected > 1  # the window's days and the changed campaign-day
    written = query(
        url,
        """select organization_id, campaign_id, day_bucket, is_holdout
                            from marts.agg_order_daily where run_id = %s""",
        (run_id,),
    )
    assert written == [(org, campaign, day, holdout)]
    assert_equivalent(url, "after a tick that wrote one bucket")


def test_backfill_window_recomputes_exactly_those_days(built: str) -> None:
    url = built
    # silently corrupt two old days (capture off: no change record, as if missed)
    day = query(
        url,
        "select max(day_bucket) from marts.agg_order_daily where day_bucket < current_date - 100",
    )[0][0]
    D1 = timedelta(days=1)
    D50 = (
        day
        - query(
            url,
            "select max(day_bucket) from marts.agg_order_daily where day_bucket < %s",
            (day - timedelta(days=40),),
        )[0][0]
    )
    execute(
        url,
        "update marts.agg_order_daily set total_orders = total_orders + 1000 where day_bucket in (%s, %s)",
        (day, day - D50),
    )
    dbt("run", "--select", MARTS, vars={"window_start": str(day - D1), "window_end": str(day + D1)})
    assert query(
        url,
        "select count(*) from marts.agg_order_daily where day_bucket = %s and total_orders >= 1000",
        (day,),
    ) == [(0,)]
    assert query(
        url,
        "select count(*) > 0 from marts.agg_order_daily where day_bucket = %s and total_orders >= 1000",
        (day - D50,),
    ) == [(True,)]
    dbt(
        "run",
        "--select",
        MARTS,
        vars={"window_start": str(day - D50), "window_end": str(day - D50)},
    )
    assert_equivalent(url, "after backfills")
    bad = dbt(
        "run",
        "--select",
        MARTS,
        vars={"window_start": "2026-05-02", "window_end": "2026-05-01"},
        check=False,
    )
    assert bad.returncode != 0 and "after window_end" in bad.stdout


def test_invalid_configuration_skips_only_that_tenant(built: str) -> None:
    url = built
    orgs = [r[0] for r in query(url, "select id from raw.organizations order by id")]
    bad_tz, bad_ex = orgs[-1], orgs[-2]
    before = query(
        url,
        "select count(*), sum(total_orders) from marts.agg_order_daily where organization_id = %s",
        (bad_tz,),
    )
    execute(
        url,
        "update raw.organizations set reporting_timezone = 'Mars/Olympus', updated_at = now() where id = %s",
        (bad_tz,),
    )
    execute(
        url,
        """update raw.organizations set configuration = '{"excluded_attributions": "view"}',
                    updated_at = now() where id = %s""",
        (bad_ex,),
    )
    with psycopg.connect(url) as conn:
        datagen.mutate(conn, seed=201)
    out = dbt("build", "--select", MARTS, check=False)
    assert out.returncode != 0
    failing = [ln for ln in out.stdout.splitlines() if "FAIL" in ln]
    assert any("assert_orders_valid_configuration" in ln for ln in failing), out.stdout[-3000:]
    assert not any("reconcile" in ln for ln in failing), failing
    # the check's stored failures name both tenants
    named = query(
        url, "select organization_id, problem from ops.assert_orders_valid_configuration order by 1"
    )
    assert [r[0] for r in named] == sorted([bad_tz, bad_ex])
    assert "Mars/Olympus" in " ".join(r[1] for r in named)
    rows = query(
        url,
        """select organization_id from intermediate.int_orders__organizations_validated
                         where not has_valid_timezone or not has_valid_exclusions order by 1""",
    )
    assert [r[0] for r in rows] == sorted([bad_tz, bad_ex])
    # the invalid tenant's rows stay as they were; every other tenant is fresh
    assert (
        query(
            url,
            "select count(*), sum(total_orders) from marts.agg_order_daily where organization_id = %s",
            (bad_tz,),
        )
        == before
    )
    with psycopg.connect(url) as conn:
        for mart in EXPECTED:  # the oracle skips invalid tenants too; compare the valid ones
            n, ex = differences(conn, mart, exclude_orgs=(bad_tz, bad_ex))
            assert n == 0, (mart, ex)
    # fix the configuration: the next tick rebuilds both tenants and everything matches
    execute(
        url,
        "update raw.organizations set reporting_timezone = 'Asia/Kathmandu', updated_at = now() where id = %s",
        (bad_tz,),
    )
    execute(
        url,
        """update raw.organizations set configuration = '{"excluded_attributions": ["view"]}',
                    updated_at = now() where id = %s""",
        (bad_ex,),
    )
    dbt("build", "--select", MARTS)
    assert_equivalent(url, "after fixing configuration")


def test_full_refresh_rebuild_is_mark_and_sweep(built: str) -> None:
    url = built
    org, campaign = query(
        url,
        """select organization_id, campaign_id from marts.agg_order_daily
                                  group by 1, 2 order by count(*) desc limit 1""",
    )[0]
    # a stale row the rebuild must sweep (no raw rows behind it), and one of another org it must keep
    execute(
        url,
        """insert into marts.agg_order_daily select organization_id, campaign_id, date '2001-01-01',
                    is_holdout, total_orders, revenue, first_purchase_orders, first_purchase_revenue, repeat_orders,
                    repeat_revenue, subscription_orders, subscription_revenue, discount_matched_orders,
                    unique_customers, new_subscribers, now() - interval '1 day', 'stale'
                    from marts.agg_order_daily where organization_id = %s limit 1""",
        (org,),
    )
    n_before = query(
        url, "select count(*) from marts.agg_order_daily where organization_id = %s", (org,)
    )[0][0]
    seen: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.is_set():
                seen.append(
                    conn.execute(
                        "select count(*) from marts.agg_order_daily where organization_id = %s",
                        (org,),
                    ).fetchone()[0]
                )
                time.sleep(0.005)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        dbt(
            "run",
            "--select",
            MARTS,
            vars={"rebuild_organization_id": org, "full_refresh_sweep": True},
        )
    finally:
        stop.set()
        thread.join()
    assert len(seen) > 5
    assert set(seen) <= {n_before, n_before - 1}, sorted(
        set(seen)
    )  # old scope or new scope, never partial
    assert query(
        url, "select count(*) from marts.agg_order_daily where day_bucket = '2001-01-01'"
    ) == [(0,)]
    assert query(
        url,
        "select count(distinct run_id) from marts.agg_order_daily where organization_id = %s",
        (org,),
    ) == [(1,)]
    assert_equivalent(url, "after mark-and-sweep")
    # campaign scope: only that campaign's rows are rewritten
    other_runs = query(
        url,
        "select run_id from marts.agg_order_daily where organization_id = %s and campaign_id <> %s"
        " limit 1",
        (org, campaign),
    )
    dbt(
        "run",
        "--select",
        MARTS,
        vars={
            "rebuild_organization_id": org,
            "rebuild_campaign_id": campaign,
            "full_refresh_sweep": True,
        },
    )
    runs = query(
        url,
        "select distinct run_id from marts.agg_order_daily where organization_id = %s and campaign_id = %s",
        (org, campaign),
    )
    assert len(runs) == 1 and runs[0] != other_runs[0]
    assert (
        query(
            url,
            "select run_id from marts.agg_order_daily where organization_id = %s and campaign_id <> %s"
            " limit 1",
            (org, campaign),
        )
        == other_runs
    )
    assert_equivalent(url, "after campaign rebuild")


def test_dst_transitions_land_in_local_days(built: str) -> None:
    url = built
    org = 9001  # a new tenant in America/New_York: the next tick builds it whole
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into raw.organizations (id, name, reporting_timezone) values (%s, 'NY', 'America/New_York')",
            (org,),
        )
        conn.execute(
            "insert into raw.campaigns (id, organization_id, name, created_at) values (%s, %s, 'c', '2026-01-01')",
            (org, org),
        )
        instants = [  # UTC instant -> expected New York local day (hand-computed)
            ("2026-03-08 04:59:59", "2026-03-07"),  # 23:59:59 EST
            ("2026-03-08 05:00:00", "2026-03-08"),  # 00:00 EST; clocks jump 02:00 -> 03:00
            ("2026-03-09 03:59:59", "2026-03-08"),  # 23:59:59 EDT: the 23-hour day
            ("2026-03-09 04:00:00", "2026-03-09"),
            ("2026-11-01 03:59:59", "2026-10-31"),  # 23:59:59 EDT
            ("2026-11-01 04:00:00", "2026-11-01"),  # 00:00 EDT; clocks fall back 02:00 -> 01:00
            ("2026-11-01 05:30:00", "2026-11-01"),  # 01:30 EDT
            ("2026-11-01 06:30:00", "2026-11-01"),  # 01:30 EST (the repeated hour)
            ("2026-11-02 04:59:59", "2026-11-01"),  # 23:59:59 EST: the 25-hour day
            ("2026-11-02 05:00:00", "2026-11-02"),
        ]
        for i, (ts, _) in enumerate(instants):
            conn.execute(
                """insert into raw.attributions (organization_id, campaign_id, recipient_id, customer_id, order_id,
                   order_value, attribution_type, is_holdout, is_first_purchase, is_subscription, discount_matched,
                   is_new_subscriber, passes_rules, archived, ordered_at, created_at)
                   values (%s, %s, %s, %s, %s, 10, 'click', false, false, false, false, false, true, false,
                           %s::timestamptz, %s::timestamptz)""",
                (org, org, 900_000 + i, 900_000 + i, f"dst{i}", ts + "+00", ts + "+00"),
            )
    expected: dict[str, int] = {}
    for _, day in instants:
        expected[day] = expected.get(day, 0) + 1
    sql = "select day_bucket::text, total_orders from marts.agg_order_daily where organization_id = %s order by 1"
    dbt("run", "--select", MARTS)
    assert dict(query(url, sql, (org,))) == expected
    # backfill of the two transition days: local_day_start bounds of a 23 h and a 25 h day
    execute(
        url, "update marts.agg_order_daily set total_orders = 0 where organization_id = %s", (org,)
    )
    dbt("run", "--select", MARTS, vars={"window_start": "2026-03-08", "window_end": "2026-03-08"})
    dbt("run", "--select", MARTS, vars={"window_start": "2026-11-01", "window_end": "2026-11-01"})
    got = dict(query(url, sql, (org,)))
    assert got == {d: (n if d in ("2026-03-08", "2026-11-01") else 0) for d, n in expected.items()}
