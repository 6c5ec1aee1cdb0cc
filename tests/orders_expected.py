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
      and a.is_holdout is not null and a.attribution_type is not null
      and o.reporting_timezone in (select name from pg_timezone_names)
      and jsonb_typeof(coalesce(o.configuration -> 'excluded_attributions', '[]')) = 'array'
      and not coalesce((o.configuration -> 'excluded_attributions') ? a.attribution_type, false)
"""

# one row per (organization, campaign, arm, customer, local day) with its revenue
CUSTOMER_DAYS = f"""
    select organization_id as o, campaign_id as c, coalesce(is_holdout, false) as h,
           customer_id as u, (ordered_at at time zone tz)::date as d, sum(order_value) as r
    from ({QUALIFIED}) as q
    where customer_id is not null
    group by 1, 2, 3, 4, 5
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
    # every pair (earlier day a <= later day b) of one customer's order days, per
    # campaign and arm; "first" and "previous" by NOT EXISTS instead of a window
    "agg_order_customer_day_pairs": (
        "organization_id, campaign_id, day_bucket, is_holdout, from_day, new_customers,"
        " returning_customers, revenue_product",
        f"""
        with cd as ({CUSTOMER_DAYS})
        select b.o, b.c, b.d, b.h, a.d,
               count(*) filter (where a.d = b.d and not exists (
                   select 1 from cd as x where (x.o, x.c, x.h, x.u) = (b.o, b.c, b.h, b.u) and x.d < b.d)),
               count(*) filter (where a.d < b.d and not exists (
                   select 1 from cd as x where (x.o, x.c, x.h, x.u) = (b.o, b.c, b.h, b.u)
                     and x.d > a.d and x.d < b.d)),
               sum(a.r * b.r * case when a.d < b.d then 2 else 1 end)
        from cd as a
        join cd as b on (a.o, a.c, a.h, a.u) = (b.o, b.c, b.h, b.u) and a.d <= b.d
        group by 1, 2, 3, 4, 5
        """,
    ),
    # running totals through each order day of an arm, by a join on day <= d; the
    # revenue products as squares of per-customer sums: pairs with both days <= d sum
    # to (revenue through d)^2, pairs with the earlier day <= d to total^2 - (after d)^2
    "agg_order_running_totals": (
        "organization_id, campaign_id, is_holdout, day_bucket, cum_total_orders,"
        " cum_first_purchase_orders, cum_repeat_orders, cum_subscription_orders,"
        " cum_discount_matched_orders, cum_new_subscribers, cum_customer_days, cum_returns,"
        " cum_returns_from, cum_revenue, cum_first_purchase_revenue, cum_repeat_revenue,"
        " cum_subscription_revenue, cum_revenue_product, cum_revenue_product_from",
        f"""
        with q as (
            select organization_id as o, campaign_id as c, coalesce(is_holdout, false) as h,
                   (ordered_at at time zone tz)::date as d, q.*
            from ({QUALIFIED}) as q
        ),
        days as (select distinct o, c, h, d from q),
        cd as ({CUSTOMER_DAYS}),
        orders as materialized (
            select days.o, days.c, days.h, days.d,
                   count(*) as n,
                   count(*) filter (where q.is_first_purchase) as fp,
                   count(*) filter (where not coalesce(q.is_first_purchase, false)) as rp,
                   count(*) filter (where q.is_subscription) as sub,
                   count(*) filter (where q.discount_matched) as dm,
                   count(*) filter (where q.is_new_subscriber) as ns,
                   sum(q.order_value) as rev,
                   coalesce(sum(q.order_value) filter (where q.is_first_purchase), 0) as fp_rev,
                   coalesce(sum(q.order_value) filter (where not coalesce(q.is_first_purchase, false)), 0)
                       as rp_rev,
                   coalesce(sum(q.order_value) filter (where q.is_subscription), 0) as sub_rev
            from days join q on (q.o, q.c, q.h) = (days.o, days.c, days.h) and q.d <= days.d
            group by 1, 2, 3, 4
        ),
        flagged as materialized (
            select cd.*,
                   exists (select 1 from cd as y where (y.o, y.c, y.h, y.u) = (cd.o, cd.c, cd.h, cd.u)
                             and y.d < cd.d) as has_earlier,
                   exists (select 1 from cd as y where (y.o, y.c, y.h, y.u) = (cd.o, cd.c, cd.h, cd.u)
                             and y.d > cd.d) as has_later
            from cd
        ),
        customers as materialized (
            select days.o, days.c, days.h, days.d, f.u,
                   count(*) filter (where f.d <= days.d) as cdays,
                   count(*) filter (where f.d <= days.d and f.has_earlier) as returns,
                   count(*) filter (where f.d <= days.d and f.has_later) as returns_from,
                   coalesce(sum(f.r) filter (where f.d <= days.d), 0) as upto,
                   coalesce(sum(f.r) filter (where f.d > days.d), 0) as after,
                   sum(f.r) as total
            from days join flagged as f on (f.o, f.c, f.h) = (days.o, days.c, days.h)
            group by 1, 2, 3, 4, 5
        ),
        per_day as materialized (
            select o, c, h, d, sum(cdays) as cdays, sum(returns) as returns,
                   sum(returns_from) as returns_from, sum(upto * upto) as prod,
                   sum(total * total - after * after) as prod_from
            from customers group by 1, 2, 3, 4
        )
        select orders.o, orders.c, orders.h, orders.d, orders.n, orders.fp, orders.rp, orders.sub,
               orders.dm, orders.ns, coalesce(p.cdays, 0), coalesce(p.returns, 0),
               coalesce(p.returns_from, 0), orders.rev, orders.fp_rev, orders.rp_rev, orders.sub_rev,
               coalesce(p.prod, 0), coalesce(p.prod_from, 0)
        from orders left join per_day as p using (o, c, h, d)
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
              and is_holdout is not null
            group by 1, 2, 3
        ),
        -- converted: recipient rows of the arm as sent whose recipient has a qualifying
        -- order of the campaign (whatever arm the order records)
        conv as (
            select cr.organization_id, cr.campaign_id, cr.is_holdout as h,
                   count(distinct cr.recipient_id) as conv
            from raw.campaign_recipients as cr
            where cr.organization_id in (select id from valid_orgs) and cr.is_holdout is not null
              and (cr.organization_id, cr.campaign_id, cr.recipient_id) in (
                  select x.organization_id, x.campaign_id, x.recipient_id from ({QUALIFIED}) as x)
            group by 1, 2, 3
        ),
        q as (
            select organization_id, campaign_id, coalesce(is_holdout, false) as h,
                   count(*) as n, sum(order_value) as rev, count(distinct customer_id) as cust
            from ({QUALIFIED}) as x
            group by 1, 2, 3
        )
        select coalesce(r.organization_id, q.organization_id), coalesce(r.campaign_id, q.campaign_id),
               coalesce(r.h, q.h), coalesce(r.n, 0), coalesce(conv.conv, 0), coalesce(q.n, 0),
               coalesce(q.rev, 0), coalesce(q.cust, 0)
        from r full join q
          on r.organization_id = q.organization_id and r.campaign_id = q.campaign_id and r.h = q.h
        left join conv
          on conv.organization_id = coalesce(r.organization_id, q.organization_id)
          and conv.campaign_id = coalesce(r.campaign_id, q.campaign_id)
          and conv.h = coalesce(r.h, q.h)
        """,
    ),
}


def differences(
    conn: psycopg.Connection, mart: str, limit: int = 5, exclude_orgs: tuple[int, ...] = ()
) -> tuple[int, list]:
    """(number of differing rows, a few examples) between marts.<mart> and the oracle.

    The mart is read on its own, as a SQL consumer reads it (docs/contract.md): for
    agg_order_running_totals that is the view of the totals since the campaign's start."""
    cols, expected = EXPECTED[mart]
    sql = f"""
        with e as (select * from ({expected}) as x({cols}) where organization_id <> all(%(ex)s)),
        m as (select * from (select {cols} from marts.{mart}) as y({cols})
              where organization_id <> all(%(ex)s)),
        missing as (select 'missing' as side, * from (select * from e except all select * from m) as x),
        extra as (select 'extra' as side, * from (select * from m except all select * from e) as y)
        select * from missing union all select * from extra
    """
    rows = conn.execute(sql, {"ex": list(exclude_orgs)}).fetchall()
    return len(rows), rows[:limit]
