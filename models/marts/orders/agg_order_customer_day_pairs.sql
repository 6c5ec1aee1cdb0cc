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

    Incremental per (organization, campaign, local day) like agg_order_daily: the pair
    rows of day X depend on the customers ordering on X and their earlier order days, so
    a changed attribution affects its own campaign-day and the later order days of the
    same customer in that campaign (sliding-window `follow` on customer_id, raw index
    (campaign_id, customer_id)); no window days. A run reads the affected buckets' rows,
    then the whole campaign history of each of their customers (one index lookup per
    customer), and keeps the pairs whose later day is an affected bucket. Whole tenants
    (new, re-configured, rebuilt) read the tenant. Like agg_campaign_recipient_totals,
    it does not ref the other order marts. -#}
{{ tally.orders_day_mart_config(
    unique_key=['organization_id', 'campaign_id', 'day_bucket', 'is_holdout', 'from_day'],
    index_sql="{{ tally.mart_index('agg_order_customer_day_pairs_org_day_idx', '(organization_id, day_bucket) include (campaign_id, is_holdout, from_day, new_customers, returning_customers, revenue_product)') }}",
    follow='customer_id',
) }}
-- depends_on: {{ ref('int_orders__organizations_validated') }}
-- depends_on: {{ ref('stg_orders__attributions') }}

{%- set full = tally.sliding_window_mode() == 'full' %}
{%- set qualified_relation = ref('int_orders__attributions_qualified') %}

with bucket_rows as (
    select q.*
    from {{ tally.sliding_window_rows(
        qualified_relation, 'organization_id', 'ordered_at', scope_col='campaign_id', key_col='campaign_id'
    ) }} as q
    where q.customer_id is not null
),

{%- if not full %}

bucket_days as (
    select distinct bucket_rows.organization_id, bucket_rows.campaign_id, bucket_rows.day_bucket
    from bucket_rows
),
{%- endif %}

-- every qualifying order of the buckets' customers in the campaign (both arms, all days)
qualified as (
    {{ tally.orders_customer_history('bucket_rows', qualified_relation) }}
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
    {%- if not full %}
    -- only the pairs whose later day is an affected bucket (the customers' other days
    -- belong to buckets this run does not replace)
    where (day_pairs.organization_id, day_pairs.campaign_id, day_pairs.day_bucket) in (
        select bucket_days.organization_id, bucket_days.campaign_id, bucket_days.day_bucket
        from bucket_days
    )
    {%- endif %}
)

select * from final
