{#- Distinct customers and the per-customer revenue spread over any range of local days,
    from a few rows per (organization, campaign, arm, day) instead of one per customer.

    For one customer of one campaign and arm, take the local days d1 < d2 < ... < dk
    with a qualifying order and the revenue r(d) of each. Every pair (from_day, day_bucket)
    with from_day <= day_bucket of those days is a row (the day with itself included),
    summed over customers:

      new_customers        on (d1, d1): the customer's first order day
      returning_customers  on (d(i-1), d(i)): the previous order day is from_day
      revenue_product      r(from_day) * r(day_bucket), doubled when from_day < day_bucket

    so that, for local days s..e:

      distinct customers = sum(new_customers + returning_customers)
                           over day_bucket in [s, e] and from_day < s or from_day = day_bucket
                           (a customer counts once, on their first order day in the range)
      sum over customers of (their revenue in [s, e])^2
                         = sum(revenue_product) over s <= from_day and day_bucket <= e

    (the diagonal rows carry new_customers, the off-diagonal ones returning_customers).

    Incremental in key mode, per (organization, campaign): an order on day d changes the
    previous order day and the pairs of that customer's later days, so a run recomputes
    every campaign holding a changed attribution (or recipient row), every campaign of
    a tenant whose configuration changed, and the rebuild scope - whole, from the
    qualifying attributions of those campaigns (raw index on campaign_id). Like
    agg_campaign_recipient_totals, it does not ref the other order marts. -#}
{{ tally.orders_campaign_mart_config(
    unique_key=['organization_id', 'campaign_id', 'day_bucket', 'is_holdout', 'from_day'],
    index_sql="create index if not exists agg_order_customer_day_pairs_org_day_idx on {{ this }} (organization_id, day_bucket) include (campaign_id, is_holdout, from_day, new_customers, returning_customers, revenue_product)",
) }}
-- depends_on: {{ ref('stg_orders__organizations') }}
-- depends_on: {{ ref('stg_orders__attributions') }}
-- depends_on: {{ ref('stg_orders__campaign_recipients') }}

with qualified as (
    select q.*
    from {{ tally.orders_campaign_rows(ref('int_orders__attributions_qualified')) }} as q
    where q.customer_id is not null
),

{{ tally.orders_customer_day_pairs('qualified') }},

final as (
    select
        day_pairs.organization_id,
        day_pairs.campaign_id,
        day_pairs.day_bucket,
        day_pairs.is_holdout,
        day_pairs.from_day,
        day_pairs.new_customers,
        day_pairs.returning_customers,
        day_pairs.revenue_product,
        {{ tally.lineage_columns() }}
    from day_pairs
)

select * from final
