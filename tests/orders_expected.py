"""Independent from-scratch aggregates of raw for the order marts (test oracle).

Written straight against ``raw.*`` (not the dbt models) so the mutation-equivalence
tests compare the incremental marts with a second, separate computation.
"""

from __future__ import annotations

import psycopg

QUALIFIED = """
    select a.*, o.reporting_timezone as tz
    from raw.attributions as a
    join raw.organizations as o on o.id = a.organization_id
    where a.passes_rules and not a.archived and a.order_value > 0
      and a.campaign_id is not null and a.ordered_at is not null
      and o.reporting_timezone in (select name from pg_timezone_names)
      and jsonb_typeof(coalesce(o.configuration -> 'excluded_attributions', '[]')) = 'array'
      and not coalesce((o.configuration -> 'excluded_attributions') ? a.attribution_type, false)
"""

EXPECTED = {
    "agg_order_daily": (
        "organization_id, campaign_id, day_bucket, is_holdout, total_orders, revenue,"
        " first_purchase_orders, first_purchase_revenue, repeat_orders, repeat_revenue,"
        " subscription_orders, subscription_revenue, discount_matched_orders,"
        " unique_customers, new_subscribers",
        f"""
        select organization_id, campaign_id, (ordered_at at time zone tz)::date,
               coalesce(is_holdout, false),
               count(*), sum(order_value),
               count(*) filter (where is_first_purchase),
               coalesce(sum(order_value) filter (where is_first_purchase), 0),
               count(*) filter (where not coalesce(is_first_purchase, false)),
               coalesce(sum(order_value) filter (where not coalesce(is_first_purchase, false)), 0),
               count(*) filter (where is_subscription),
               coalesce(sum(order_value) filter (where is_subscription), 0),
               count(*) filter (where discount_matched),
               count(distinct customer_id),
               count(*) filter (where is_new_subscriber)
        from ({QUALIFIED}) as q
        group by 1, 2, 3, 4
        """,
    ),
    "agg_order_customer_daily": (
        "organization_id, campaign_id, day_bucket, is_holdout, customer_id, orders, revenue",
        f"""
        select organization_id, campaign_id, (ordered_at at time zone tz)::date,
               coalesce(is_holdout, false), customer_id, count(*), sum(order_value)
        from ({QUALIFIED}) as q
        where customer_id is not null
        group by 1, 2, 3, 4, 5
        """,
    ),
    "agg_campaign_recipient_totals": (
        "organization_id, campaign_id, is_holdout, recipients, converted_recipients,"
        " total_orders, revenue, unique_customers",
        f"""
        with valid_orgs as (
            select o.id from raw.organizations as o
            where o.reporting_timezone in (select name from pg_timezone_names)
              and jsonb_typeof(coalesce(o.configuration -> 'excluded_attributions', '[]')) = 'array'
        ),
        r as (
            select organization_id, campaign_id, coalesce(is_holdout, false) as h, count(*) as n
            from raw.campaign_recipients
            where organization_id in (select id from valid_orgs) and campaign_id is not null
            group by 1, 2, 3
        ),
        q as (
            select organization_id, campaign_id, coalesce(is_holdout, false) as h,
                   count(distinct recipient_id) as conv, count(*) as n, sum(order_value) as rev,
                   count(distinct customer_id) as cust
            from ({QUALIFIED}) as x
            group by 1, 2, 3
        )
        select coalesce(r.organization_id, q.organization_id), coalesce(r.campaign_id, q.campaign_id),
               coalesce(r.h, q.h), coalesce(r.n, 0), coalesce(q.conv, 0), coalesce(q.n, 0),
               coalesce(q.rev, 0), coalesce(q.cust, 0)
        from r full join q
          on r.organization_id = q.organization_id and r.campaign_id = q.campaign_id and r.h = q.h
        """,
    ),
}


def differences(
    conn: psycopg.Connection, mart: str, limit: int = 5, exclude_orgs: tuple[int, ...] = ()
) -> tuple[int, list]:
    """(number of differing rows, a few examples) between marts.<mart> and the oracle."""
    cols, expected = EXPECTED[mart]
    sql = f"""
        with e as (select * from ({expected}) as x({cols}) where organization_id <> all(%(ex)s)),
        m as (select {cols} from marts.{mart} where organization_id <> all(%(ex)s)),
        missing as (select 'missing' as side, * from (select * from e except all select * from m) as x),
        extra as (select 'extra' as side, * from (select * from m except all select * from e) as y)
        select * from missing union all select * from extra
    """
    rows = conn.execute(sql, {"ex": list(exclude_orgs)}).fetchall()
    return len(rows), rows[:limit]
