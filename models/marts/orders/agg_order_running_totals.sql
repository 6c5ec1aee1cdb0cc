{#- Running totals per (organization, campaign, arm), one row per local day with a
    qualifying order: every measure of agg_order_daily and the customer-day-pair sums
    of agg_order_customer_day_pairs, accumulated from the campaign's first order day
    through day_bucket. A ranged report then reads two rows per arm (the last row on or
    before the range's end, the last row before its start) instead of every day:

      measure over [s, e]       = cum(e) - cum(s - 1)
      distinct customers        = cum_customer_days(e) - cum_customer_days(s - 1)
                                  - cum_returns(e) + cum_returns_from(s - 1) - spanning returns
      sum of squared per-customer revenue
                                = cum_revenue_product(e) - cum_revenue_product_from(s - 1)
                                  + spanning revenue products

    where "spanning" are the pairs of agg_order_customer_day_pairs with from_day < s and
    day_bucket > e (none when the range ends on the latest day). Derivation in
    docs/reader.md. cum(x) is the row with the largest day_bucket <= x (0 without one).

    Key mode per (organization, campaign), like agg_order_customer_day_pairs: a late
    order changes every later running total of its campaign, so a run recomputes whole
    campaigns. It does not ref the other order marts (see agg_campaign_recipient_totals). -#}
{{ tally.orders_campaign_mart_config(
    unique_key=['organization_id', 'campaign_id', 'is_holdout', 'day_bucket'],
) }}
-- depends_on: {{ ref('stg_orders__organizations') }}
-- depends_on: {{ ref('stg_orders__attributions') }}
-- depends_on: {{ ref('stg_orders__campaign_recipients') }}

with qualified as (
    select q.*
    from {{ tally.orders_campaign_rows(ref('int_orders__attributions_qualified')) }} as q
),

{{ tally.orders_customer_day_pairs('qualified') }},

daily as (
    select
        qualified.organization_id,
        qualified.campaign_id,
        qualified.is_holdout,
        qualified.day_bucket,
        count(*) as total_orders,
        sum(qualified.order_value) as revenue,
        count(*) filter (where qualified.is_first_purchase) as first_purchase_orders,
        coalesce(sum(qualified.order_value) filter (where qualified.is_first_purchase), 0)
            as first_purchase_revenue,
        count(*) filter (where not qualified.is_first_purchase) as repeat_orders,
        coalesce(sum(qualified.order_value) filter (where not qualified.is_first_purchase), 0)
            as repeat_revenue,
        count(*) filter (where qualified.is_subscription) as subscription_orders,
        coalesce(sum(qualified.order_value) filter (where qualified.is_subscription), 0)
            as subscription_revenue,
        count(*) filter (where qualified.is_discount_matched) as discount_matched_orders,
        count(*) filter (where qualified.is_new_subscriber) as new_subscribers
    from qualified
    group by 1, 2, 3, 4
),

-- each pair row counts on its later day (customer days, returns, products by day) and
-- on its earlier day (returns and products by from_day)
pair_steps as (
    select
        day_pairs.organization_id,
        day_pairs.campaign_id,
        day_pairs.is_holdout,
        day_pairs.day_bucket,
        sum(day_pairs.new_customers + day_pairs.returning_customers) as customer_days,
        sum(day_pairs.returning_customers) as returns,
        0 as returns_from,
        sum(day_pairs.revenue_product) as revenue_product,
        0 as revenue_product_from
    from day_pairs
    group by 1, 2, 3, 4
    union all
    select
        day_pairs.organization_id,
        day_pairs.campaign_id,
        day_pairs.is_holdout,
        day_pairs.from_day as day_bucket,
        0 as customer_days,
        0 as returns,
        sum(day_pairs.returning_customers) as returns_from,
        0 as revenue_product,
        sum(day_pairs.revenue_product) as revenue_product_from
    from day_pairs
    group by 1, 2, 3, 4
),

pair_days as (
    select
        pair_steps.organization_id,
        pair_steps.campaign_id,
        pair_steps.is_holdout,
        pair_steps.day_bucket,
        sum(pair_steps.customer_days) as customer_days,
        sum(pair_steps.returns) as returns,
        sum(pair_steps.returns_from) as returns_from,
        sum(pair_steps.revenue_product) as revenue_product,
        sum(pair_steps.revenue_product_from) as revenue_product_from
    from pair_steps
    group by 1, 2, 3, 4
),

-- every pair day is an order day of the arm, so `daily` holds every day
days as (
    select
        daily.*,
        coalesce(pair_days.customer_days, 0) as customer_days,
        coalesce(pair_days.returns, 0) as returns,
        coalesce(pair_days.returns_from, 0) as returns_from,
        coalesce(pair_days.revenue_product, 0) as revenue_product,
        coalesce(pair_days.revenue_product_from, 0) as revenue_product_from
    from daily
    left join pair_days
        on daily.organization_id = pair_days.organization_id
        and daily.campaign_id = pair_days.campaign_id
        and daily.is_holdout = pair_days.is_holdout
        and daily.day_bucket = pair_days.day_bucket
),

final as (
    select
        days.organization_id,
        days.campaign_id,
        days.is_holdout,
        days.day_bucket,
        {%- for m in ['total_orders', 'first_purchase_orders', 'repeat_orders', 'subscription_orders',
                      'discount_matched_orders', 'new_subscribers', 'customer_days', 'returns', 'returns_from'] %}
        cast(sum(days.{{ m }}) over arm_days as bigint) as cum_{{ m }},
        {%- endfor %}
        {%- for m in ['revenue', 'first_purchase_revenue', 'repeat_revenue', 'subscription_revenue'] %}
        cast(sum(days.{{ m }}) over arm_days as numeric(18, 2)) as cum_{{ m }},
        {%- endfor %}
        cast(sum(days.revenue_product) over arm_days as numeric(38, 4)) as cum_revenue_product,
        cast(sum(days.revenue_product_from) over arm_days as numeric(38, 4)) as cum_revenue_product_from,
        {{ tally.lineage_columns() }}
    from days
    window arm_days as (
        partition by days.organization_id, days.campaign_id, days.is_holdout
        order by days.day_bucket
        rows between unbounded preceding and current row
    )
)

select * from final
