"""The reader's SQL: constant texts only, every value a bound parameter.

Mart path and raw path share the downstream SQL; they differ only in the source
CTEs (``daily_src``, ``cust_src``), chosen from the whitelist below - never built
from user input.

The business rules have one home, in dbt: the qualifying-attribution filter is
``int_orders__attributions_qualified`` and the organization-config validation
``int_orders__organizations_validated``. The mart path reads the rows it adds or
subtracts at read time (the live tail, the excluded recipients) from that view
(:data:`QUALIFIED`, granted to ``tally_reader``). The raw path (``source="raw"``) is
the **oracle**: :func:`oracle_raw_rows` restates the filter over raw on purpose, so a
report can be reconciled against a computation that shares no SQL with dbt.

Parameters used throughout: ``org``, ``lo``/``hi`` (local days, inclusive), ``tz``
(the organization's IANA zone, validated), ``excl`` (excluded recipient ids), ``live``
(today's local day or NULL).
"""

from __future__ import annotations

MEASURES: tuple[str, ...] = (
    "total_orders",
    "revenue",
    "first_purchase_orders",
    "first_purchase_revenue",
    "repeat_orders",
    "repeat_revenue",
    "subscription_orders",
    "subscription_revenue",
    "discount_matched_orders",
    "new_subscribers",
)

# The dbt relations that hold the rules (granted to tally_reader, macros/ops/grant_reader.sql)
QUALIFIED = "intermediate.int_orders__attributions_qualified"
ORGANIZATIONS = "intermediate.int_orders__organizations_validated"

# One qualifying attribution of the organization in the range, measures per row, from
# dbt's qualifying view (its local day_bucket included). `{where}` adds a constant
# extra predicate (a whitelisted text below), `{lo}`/`{hi}` name the range parameters.
# The (organization_id, ordered_at) bounds are pushed down to the raw index.
_QUALIFIED_ROWS = f"""
    select
        q.campaign_id,
        q.is_holdout,
        q.day_bucket,
        q.customer_id,
        q.recipient_id,
        1 as total_orders,
        q.order_value as revenue,
        case when q.is_first_purchase then 1 else 0 end as first_purchase_orders,
        case when q.is_first_purchase then q.order_value else 0 end as first_purchase_revenue,
        case when q.is_first_purchase then 0 else 1 end as repeat_orders,
        case when q.is_first_purchase then 0 else q.order_value end as repeat_revenue,
        case when q.is_subscription then 1 else 0 end as subscription_orders,
        case when q.is_subscription then q.order_value else 0 end as subscription_revenue,
        case when q.is_discount_matched then 1 else 0 end as discount_matched_orders,
        case when q.is_new_subscriber then 1 else 0 end as new_subscribers
    from {QUALIFIED} as q
    where q.organization_id = %(org)s
        and q.ordered_at >= (cast(%({{lo}})s as date)::timestamp at time zone %(tz)s)
        and q.ordered_at < ((cast(%({{hi}})s as date) + 1)::timestamp at time zone %(tz)s)
        {{where}}
"""

_QUALIFIED_WHERE = {
    "all": "",
    "excluded": "and q.recipient_id = any(%(excl)s::bigint[])",
    "campaign": "and q.campaign_id = %(campaign)s",
}


def qualified_rows(where: str, lo: str = "lo", hi: str = "hi") -> str:
    """The organization's qualifying attributions in lo..hi, read from dbt's view."""
    return _QUALIFIED_ROWS.format(where=_QUALIFIED_WHERE[where], lo=lo, hi=hi)


# ORACLE ONLY (source="raw"): the same rows computed from raw, restating dbt's rules on
# purpose (seed 000 filter + the organization's excluded types, read from its raw
# configuration) so that the raw path stays an independent check of the marts and of
# the views above. Nothing on the mart path may use it.
_ORACLE_RAW_ROWS = """
    select
        a.campaign_id,
        coalesce(a.is_holdout, false) as is_holdout,
        cast(a.ordered_at at time zone %(tz)s as date) as day_bucket,
        a.customer_id,
        a.recipient_id,
        1 as total_orders,
        a.order_value as revenue,
        case when a.is_first_purchase then 1 else 0 end as first_purchase_orders,
        case when a.is_first_purchase then a.order_value else 0 end as first_purchase_revenue,
        case when a.is_first_purchase then 0 else 1 end as repeat_orders,
        case when a.is_first_purchase then 0 else a.order_value end as repeat_revenue,
        case when a.is_subscription then 1 else 0 end as subscription_orders,
        case when a.is_subscription then a.order_value else 0 end as subscription_revenue,
        case when a.discount_matched then 1 else 0 end as discount_matched_orders,
        case when a.is_new_subscriber then 1 else 0 end as new_subscribers
    from raw.attributions as a
    inner join raw.organizations as o on o.id = a.organization_id
    where a.organization_id = %(org)s
        and a.ordered_at >= (cast(%({lo})s as date)::timestamp at time zone %(tz)s)
        and a.ordered_at < ((cast(%({hi})s as date) + 1)::timestamp at time zone %(tz)s)
        and a.passes_rules
        and not a.archived
        and a.order_value > 0
        and a.campaign_id is not null
        and a.ordered_at is not null
        and a.is_holdout is not null
        and a.attribution_type is not null
        and not coalesce((o.configuration -> 'excluded_attributions') ? a.attribution_type, false)
        {where}
"""

_ORACLE_WHERE = {
    "all": "",
    "kept": "and not coalesce(a.recipient_id = any(%(excl)s::bigint[]), false)",
    "campaign": "and a.campaign_id = %(campaign)s",
}


def oracle_raw_rows(where: str, lo: str = "lo", hi: str = "hi") -> str:
    """ORACLE ONLY: the qualifying rows recomputed from raw (see the comment above)."""
    return _ORACLE_RAW_ROWS.format(where=_ORACLE_WHERE[where], lo=lo, hi=hi)


_SUMS = ",\n        ".join(f"sum({m}) as {m}" for m in MEASURES)
_NEG_SUMS = ",\n        ".join(f"-{m} as {m}" for m in MEASURES)
_COLS = ", ".join(MEASURES)

# --------------------------------------------------------------------------- sources

# (campaign_id, is_holdout, day_bucket, measures...) and
# (campaign_id, is_holdout, day_bucket, customer_id, orders, revenue) for the range.
MART_SOURCES = f"""
daily_src as (
    select campaign_id, is_holdout, day_bucket, {_COLS}
    from marts.agg_order_daily
    where organization_id = %(org)s and day_bucket between %(lo)s and %(hi)s {{campaign}}
        and day_bucket is distinct from %(live)s
),
cust_src as (
    select campaign_id, is_holdout, day_bucket, customer_id, orders, revenue
    from marts.agg_order_customer_daily
    where organization_id = %(org)s and day_bucket between %(lo)s and %(hi)s {{campaign}}
        and day_bucket is distinct from %(live)s
)"""

RAW_SOURCES = f"""
raw_rows as ({{raw_rows}}),
daily_src as (
    select campaign_id, is_holdout, day_bucket, {_SUMS}
    from raw_rows group by 1, 2, 3
),
cust_src as (
    select campaign_id, is_holdout, day_bucket, customer_id,
        count(*) as orders, sum(revenue) as revenue
    from raw_rows where customer_id is not null group by 1, 2, 3, 4
)"""

_MART_CAMPAIGN = "and campaign_id = %(campaign)s"


def sources(source: str, *, campaign: bool = False, where: str = "all") -> str:
    """The source CTEs for ``source`` ('marts', or 'raw': the oracle), optionally for one campaign."""
    if source == "marts":
        return MART_SOURCES.format(campaign=_MART_CAMPAIGN if campaign else "")
    if source == "raw":
        return RAW_SOURCES.format(raw_rows=oracle_raw_rows("campaign" if campaign else where))
    raise ValueError(source)


# --------------------------------------------------------------------------- bulk (ranged)

# Measures and exact distinct customers per (campaign, arm) over the range. On the mart
# path, `live` rows (today's bucket from raw) are added and `excluded` rows (the
# excluded recipients' raw rows in the range) are subtracted, per customer, so a
# customer also bought through a kept recipient stays counted.
BULK_TAIL = f"""
live_rows as ({{live_rows}}),
excl_rows as ({{excl_rows}}),
measure_rows as (
    select campaign_id, is_holdout, {_COLS} from daily_src
    union all
    select campaign_id, is_holdout, {_COLS} from live_rows
    union all
    select campaign_id, is_holdout, {_NEG_SUMS} from excl_rows
),
measures as (
    select campaign_id, is_holdout, {_SUMS} from measure_rows group by 1, 2
),
customer_rows as (
    select campaign_id, is_holdout, customer_id, orders, revenue from cust_src
    union all
    select campaign_id, is_holdout, customer_id, 1, revenue
    from live_rows where customer_id is not null
    union all
    select campaign_id, is_holdout, customer_id, -1, -revenue
    from excl_rows where customer_id is not null
),
per_customer as (
    select campaign_id, is_holdout, customer_id, sum(orders) as orders, sum(revenue) as revenue
    from customer_rows group by 1, 2, 3
),
customers as (
    select campaign_id, is_holdout,
        count(*) filter (where orders > 0) as unique_customers,
        coalesce(sum(revenue * revenue) filter (where orders > 0), 0) as customer_revenue_sq
    from per_customer group by 1, 2
)
select coalesce(m.campaign_id, c.campaign_id) as campaign_id,
    coalesce(m.is_holdout, c.is_holdout) as is_holdout,
    {", ".join(f"m.{x}" for x in MEASURES)},
    coalesce(c.unique_customers, 0) as unique_customers,
    coalesce(c.customer_revenue_sq, 0) as customer_revenue_sq
from measures as m
full join customers as c on c.campaign_id = m.campaign_id and c.is_holdout = m.is_holdout
"""

# The same answer without live tail or excluded recipients, from the running totals'
# internal rows (marts_internal.agg_order_running_totals: the view
# marts.agg_order_running_totals publishes the same totals, but the two index probes per
# arm read the block rows and their block's base directly): per arm of the organization, the last row on or
# before the end and the last row before the start (two index probes), minus/plus the
# customer-day pairs that span the whole range (from_day < start, day_bucket > end -
# none when the range ends on the latest day). Derivation in docs/reader.md.
_RUNNING_COLS = (
    "cum_total_orders", "cum_first_purchase_orders", "cum_repeat_orders",
    "cum_subscription_orders", "cum_discount_matched_orders", "cum_new_subscribers",
    "cum_customer_days", "cum_returns", "cum_returns_from", "cum_revenue",
    "cum_first_purchase_revenue", "cum_repeat_revenue", "cum_subscription_revenue",
    "cum_revenue_product", "cum_revenue_product_from",
)  # fmt: skip
# cum_* restart at every 28-day block; the block's base (the sum of the earlier
# blocks, marts_internal.agg_order_running_totals__blocks) makes them totals since the start
_RUNNING_PROBE = """
    select {cols}
    from (
        select r.*
        from marts_internal.agg_order_running_totals as r
        where r.organization_id = %(org)s and r.campaign_id = a.campaign_id
            and r.is_holdout = a.is_holdout and r.day_bucket {op} %({bound})s
        order by r.day_bucket desc
        limit 1
    ) as r
    inner join marts_internal.agg_order_running_totals__blocks as k
        on k.organization_id = r.organization_id and k.campaign_id = r.campaign_id
        and k.is_holdout = r.is_holdout and k.block_start = r.block_start
"""
_RUNNING_SUMS = ", ".join(f"k.base_{c[4:]} + r.{c} as {c}" for c in _RUNNING_COLS)
_DIFF = ",\n    ".join(f"e.cum_{m} - coalesce(b.cum_{m}, 0) as {m}" for m in MEASURES)
BULK_RUNNING = f"""
with arms as (
    select campaign_id, is_holdout from marts.agg_campaign_recipient_totals
    where organization_id = %(org)s
),
spanning as (
    select campaign_id, is_holdout,
        sum(returning_customers) as returns, sum(revenue_product) as revenue_product
    from marts.agg_order_customer_day_pairs
    where organization_id = %(org)s and day_bucket > %(hi)s and from_day < %(lo)s
    group by 1, 2
)
select a.campaign_id, a.is_holdout,
    {_DIFF},
    e.cum_customer_days - coalesce(b.cum_customer_days, 0) - e.cum_returns
        + coalesce(b.cum_returns_from, 0) - coalesce(s.returns, 0) as unique_customers,
    e.cum_revenue_product - coalesce(b.cum_revenue_product_from, 0)
        + coalesce(s.revenue_product, 0) as customer_revenue_sq
from arms as a
cross join lateral ({_RUNNING_PROBE.format(cols=_RUNNING_SUMS, op="<=", bound="hi")}) as e
left join lateral ({_RUNNING_PROBE.format(cols=_RUNNING_SUMS, op="<", bound="lo")}) as b on true
left join spanning as s on s.campaign_id = a.campaign_id and s.is_holdout = a.is_holdout
where e.cum_total_orders > coalesce(b.cum_total_orders, 0)
"""

EMPTY_ROWS = f"""
    select null::bigint as campaign_id, null::boolean as is_holdout, null::date as day_bucket,
        null::bigint as customer_id, null::bigint as recipient_id,
        {", ".join(f"null::numeric as {m}" for m in MEASURES)}
    where false
"""


# The running-totals answer corrected for the live tail and excluded recipients: the
# measures get (today's raw rows - today's mart rows - the excluded rows in the range);
# distinct customers and squared revenue are corrected per (campaign, arm, customer)
# touched by those rows, against that customer's range totals in
# agg_order_customer_daily (a customer drops out only when none of their orders in the
# range is left). Only the touched customers are read, not the range.
_ADJUSTED_TAIL = f"""
live_rows as ({{live_rows}}),
excl_rows as ({{excl_rows}}),
mart_today as (
    select campaign_id, is_holdout, {_COLS} from marts.agg_order_daily
    where organization_id = %(org)s and day_bucket = %(live)s
),
mart_today_customers as (
    select campaign_id, is_holdout, customer_id, orders, revenue
    from marts.agg_order_customer_daily
    where organization_id = %(org)s and day_bucket = %(live)s
),
measure_adj as (
    select campaign_id, is_holdout, {_SUMS}
    from (
        select campaign_id, is_holdout, {_COLS} from live_rows
        union all
        select campaign_id, is_holdout, {_NEG_SUMS} from mart_today
        union all
        select campaign_id, is_holdout, {_NEG_SUMS} from excl_rows
    ) as x
    group by 1, 2
),
customer_adj as (
    select campaign_id, is_holdout, customer_id, sum(orders) as orders, sum(revenue) as revenue
    from (
        select campaign_id, is_holdout, customer_id, 1 as orders, revenue
        from live_rows where customer_id is not null
        union all
        select campaign_id, is_holdout, customer_id, -orders, -revenue from mart_today_customers
        union all
        select campaign_id, is_holdout, customer_id, -1, -revenue
        from excl_rows where customer_id is not null
    ) as x
    group by 1, 2, 3
),
customer_fix as (
    select a.campaign_id, a.is_holdout,
        sum(case when m.orders + a.orders > 0 then 1 else 0 end
            - case when m.orders > 0 then 1 else 0 end) as unique_customers,
        sum(case when m.orders + a.orders > 0
                 then (m.revenue + a.revenue) * (m.revenue + a.revenue) else 0 end
            - case when m.orders > 0 then m.revenue * m.revenue else 0 end) as customer_revenue_sq
    from customer_adj as a
    cross join lateral (
        select coalesce(sum(c.orders), 0) as orders, coalesce(sum(c.revenue), 0) as revenue
        from marts.agg_order_customer_daily as c
        where c.organization_id = %(org)s and c.campaign_id = a.campaign_id
            and c.is_holdout = a.is_holdout and c.customer_id = a.customer_id
            and c.day_bucket between %(lo)s and %(hi)s
    ) as m
    group by 1, 2
),
arms as (
    select campaign_id, is_holdout from base
    union
    select campaign_id, is_holdout from measure_adj
)
select a.campaign_id, a.is_holdout,
    {", ".join(f"coalesce(b.{m}, 0) + coalesce(m.{m}, 0) as {m}" for m in MEASURES)},
    coalesce(b.unique_customers, 0) + coalesce(f.unique_customers, 0) as unique_customers,
    coalesce(b.customer_revenue_sq, 0) + coalesce(f.customer_revenue_sq, 0) as customer_revenue_sq
from arms as a
left join base as b on b.campaign_id = a.campaign_id and b.is_holdout = a.is_holdout
left join measure_adj as m on m.campaign_id = a.campaign_id and m.is_holdout = a.is_holdout
left join customer_fix as f on f.campaign_id = a.campaign_id and f.is_holdout = a.is_holdout
"""


def bulk_running_sql(*, live: bool, excluded: bool) -> str:
    """The ranged bulk query over the running totals, with the live tail and excluded
    recipients applied as corrections when asked for."""
    if not live and not excluded:
        return BULK_RUNNING
    live_rows = qualified_rows("all", lo="live", hi="live") if live else EMPTY_ROWS
    excl_rows = qualified_rows("excluded") if excluded else EMPTY_ROWS
    return f"with base as ({BULK_RUNNING}),\n" + _ADJUSTED_TAIL.format(
        live_rows=live_rows, excl_rows=excl_rows
    )


def bulk_sql(source: str, *, live: bool, excluded: bool) -> str:
    if source == "raw":
        head = sources("raw", where="kept" if excluded else "all")
        live_rows, excl_rows = EMPTY_ROWS, EMPTY_ROWS
    else:
        head = sources("marts")
        live_rows = qualified_rows("all", lo="live", hi="live") if live else EMPTY_ROWS
        excl_rows = qualified_rows("excluded") if excluded else EMPTY_ROWS
    return "with " + head + "," + BULK_TAIL.format(live_rows=live_rows, excl_rows=excl_rows)


# --------------------------------------------------------------------------- recipients

# Recipients and converted recipients per (campaign, arm) - campaign lifetime, as in
# marts.agg_campaign_recipient_totals: recipients = campaign_recipients rows (arm as
# sent), converted = distinct recipients of those rows with >= 1 qualifying order of
# the campaign (whatever arm the order records: a re-attributed order converts nobody
# in a campaign its recipient was not sent - issue 16 F2), so converted <= recipients.
# Raw: computed; marts: read, minus the excluded recipients' rows.
_CONVERSIONS = """
    select r.campaign_id, r.is_holdout, count(distinct r.recipient_id) as converted_recipients
    from raw.campaign_recipients as r
    where r.organization_id = %(org)s and r.campaign_id is not null and r.is_holdout is not null
        and {recipients}
        and (r.campaign_id, r.recipient_id) in (
            select q.campaign_id, q.recipient_id from ({orders}) as q
        )
    group by 1, 2
"""
RECIPIENTS_RAW = f"""
with counts as (
    select r.campaign_id, coalesce(r.is_holdout, false) as is_holdout, count(*) as recipients
    from raw.campaign_recipients as r
    where r.organization_id = %(org)s and r.campaign_id is not null and r.is_holdout is not null
        and not coalesce(r.recipient_id = any(%(excl)s::bigint[]), false)
    group by 1, 2
),
conversions as ({
    _CONVERSIONS.format(
        recipients="not coalesce(r.recipient_id = any(%(excl)s::bigint[]), false)",
        orders=oracle_raw_rows("kept", lo="min_day", hi="max_day"),
    )
})
select coalesce(c.campaign_id, v.campaign_id) as campaign_id,
    coalesce(c.is_holdout, v.is_holdout) as is_holdout,
    coalesce(c.recipients, 0) as recipients,
    coalesce(v.converted_recipients, 0) as converted_recipients
from counts as c
full join conversions as v on v.campaign_id = c.campaign_id and v.is_holdout = c.is_holdout
"""

RECIPIENTS_MARTS = f"""
with counts as (
    select r.campaign_id, coalesce(r.is_holdout, false) as is_holdout, count(*) as recipients
    from raw.campaign_recipients as r
    where r.organization_id = %(org)s and r.campaign_id is not null and r.is_holdout is not null
        and r.recipient_id = any(%(excl)s::bigint[])
    group by 1, 2
),
conversions as ({
    _CONVERSIONS.format(
        recipients="r.recipient_id = any(%(excl)s::bigint[])",
        orders=qualified_rows("excluded", lo="min_day", hi="max_day"),
    )
})
select t.campaign_id, t.is_holdout,
    t.recipients - coalesce(c.recipients, 0) as recipients,
    t.converted_recipients - coalesce(v.converted_recipients, 0) as converted_recipients
from marts.agg_campaign_recipient_totals as t
left join counts as c on c.campaign_id = t.campaign_id and c.is_holdout = t.is_holdout
left join conversions as v on v.campaign_id = t.campaign_id and v.is_holdout = t.is_holdout
where t.organization_id = %(org)s
"""

RECIPIENTS_MARTS_PLAIN = """
select campaign_id, is_holdout, recipients, converted_recipients
from marts.agg_campaign_recipient_totals where organization_id = %(org)s
"""

# --------------------------------------------------------------------------- summary-only

# All-time totals per (campaign, arm) of orders with a known customer (as the totals
# mart counts them). Marts: agg_campaign_recipient_totals, minus the
# excluded recipients' all-time raw rows; distinct customers corrected per customer
# against their all-time mart orders.
SUMMARY_MARTS = f"""
with excl_rows as ({qualified_rows("excluded", lo="min_day", hi="max_day")}),
excl_customers as (
    select campaign_id, is_holdout, customer_id, count(*) as orders
    from excl_rows where customer_id is not null group by 1, 2, 3
),
lost_customers as (
    select x.campaign_id, x.is_holdout, count(*) as customers
    from excl_customers as x
    join lateral (
        select coalesce(sum(c.orders), 0) as orders
        from marts.agg_order_customer_daily as c
        where c.organization_id = %(org)s and c.campaign_id = x.campaign_id
            and c.is_holdout = x.is_holdout and c.customer_id = x.customer_id
    ) as m on true
    where m.orders <= x.orders
    group by 1, 2
),
excl_totals as (
    select campaign_id, is_holdout, count(*) as total_orders, sum(revenue) as revenue
    from excl_rows where customer_id is not null group by 1, 2
)
select t.campaign_id, t.is_holdout,
    t.total_orders - coalesce(e.total_orders, 0) as total_orders,
    t.revenue - coalesce(e.revenue, 0) as revenue,
    t.unique_customers - coalesce(l.customers, 0) as unique_customers
from marts.agg_campaign_recipient_totals as t
left join excl_totals as e on e.campaign_id = t.campaign_id and e.is_holdout = t.is_holdout
left join lost_customers as l on l.campaign_id = t.campaign_id and l.is_holdout = t.is_holdout
where t.organization_id = %(org)s
"""

SUMMARY_MARTS_PLAIN = """
select campaign_id, is_holdout, total_orders, revenue, unique_customers
from marts.agg_campaign_recipient_totals where organization_id = %(org)s
"""

SUMMARY_RAW = f"""
with rows as ({oracle_raw_rows("kept", lo="min_day", hi="max_day")})
select campaign_id, is_holdout, count(*) as total_orders, sum(revenue) as revenue,
    count(distinct customer_id) as unique_customers
from rows where customer_id is not null group by 1, 2
"""

# --------------------------------------------------------------------------- rolling

ROLLING_DAILY = f"""
with {{sources}}
select day_bucket, is_holdout, {_SUMS}
from (
    select day_bucket, is_holdout, {_COLS} from daily_src
    union all
    select day_bucket, is_holdout, {_COLS} from live_rows
) as d
group by 1, 2
"""

# Exact rolling distinct customers: a customer's row on day d counts in every window
# ending on d .. min(next row's day, d + w) - 1; emit +1/-1 deltas, the caller sums them.
ROLLING_CUSTOMERS = """
with {sources},
rows as (
    select is_holdout, customer_id, day_bucket from cust_src
    union
    select is_holdout, customer_id, day_bucket from live_rows where customer_id is not null
),
marked as (
    select is_holdout, day_bucket,
        lead(day_bucket) over (partition by is_holdout, customer_id order by day_bucket) as next_day
    from rows
),
windows as (select unnest(%(windows)s::int[]) as win)
select m.is_holdout, w.win, e.day_bucket, sum(e.delta) as delta
from marked as m
cross join windows as w
cross join lateral (
    values (m.day_bucket, 1), (least(m.next_day, m.day_bucket + w.win), -1)
) as e (day_bucket, delta)
group by 1, 2, 3
"""

# The same deltas from marts.agg_order_customer_day_pairs (no live tail): a customer's
# first order day d counts in the windows ending on d .. d + w - 1; an order day d whose
# previous order day is p counts in those ending on max(d, p + w) .. d + w - 1 (before
# that, the window still holds p and the customer is counted there).
ROLLING_CUSTOMERS_PAIRS = """
with rows as (
    select is_holdout, day_bucket, from_day, new_customers + returning_customers as customers
    from marts.agg_order_customer_day_pairs
    where organization_id = %(org)s and campaign_id = %(campaign)s
        and day_bucket between %(lo)s and %(hi)s
        and (new_customers > 0 or returning_customers > 0)
),
windows as (select unnest(%(windows)s::int[]) as win)
select r.is_holdout, w.win, e.day_bucket, sum(e.delta) as delta
from rows as r
cross join windows as w
cross join lateral (
    values
        (case when r.from_day = r.day_bucket then r.day_bucket
              else greatest(r.day_bucket, r.from_day + w.win) end, r.customers),
        (r.day_bucket + w.win, -r.customers)
) as e (day_bucket, delta)
group by 1, 2, 3
"""


def rolling_sql(kind: str, source: str, *, live: bool) -> str:
    head = sources(source, campaign=True)
    live_rows = (
        qualified_rows("campaign", lo="live", hi="live")
        if live and source == "marts"
        else EMPTY_ROWS
    )
    text = head + f",\nlive_rows as ({live_rows})"
    template = ROLLING_DAILY if kind == "daily" else ROLLING_CUSTOMERS
    return template.format(sources=text)


ROLLING_RECIPIENTS = {
    "marts": """
        select is_holdout, recipients from marts.agg_campaign_recipient_totals
        where organization_id = %(org)s and campaign_id = %(campaign)s
    """,
    "raw": """
        select coalesce(is_holdout, false) as is_holdout, count(*) as recipients
        from raw.campaign_recipients
        where organization_id = %(org)s and campaign_id = %(campaign)s and is_holdout is not null
        group by 1
    """,
}
