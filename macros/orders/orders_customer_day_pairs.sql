{#- The pairs of a customer's order days per (organization, campaign, arm), grouped by
    (day_bucket, from_day) - the CTEs `customer_days` and `day_pairs` over the CTE named
    `qualified` (qualifying attributions with day_bucket), for
    agg_order_customer_day_pairs (agg_order_running_totals sums the same pairs per day
    directly from each customer's revenue through / from the day); see docs/reader.md
    for the arithmetic.

    For one customer with order days d1 < ... < dk and revenue r(d) on each, every pair
    (from_day, day_bucket) = (di, dj) with i <= j carries
      new_customers        1 on (d1, d1), else 0
      returning_customers  1 on (d(j-1), dj), else 0
      revenue_product      r(di) * r(dj), doubled when i < j -#}
{% macro orders_customer_day_pairs(qualified='qualified') %}
customer_days as (
    select
        {{ qualified }}.organization_id,
        {{ qualified }}.campaign_id,
        {{ qualified }}.is_holdout,
        {{ qualified }}.customer_id,
        {{ qualified }}.day_bucket,
        sum({{ qualified }}.order_value) as revenue,
        lag({{ qualified }}.day_bucket) over (
            partition by
                {{ qualified }}.organization_id, {{ qualified }}.campaign_id,
                {{ qualified }}.is_holdout, {{ qualified }}.customer_id
            order by {{ qualified }}.day_bucket
        ) as previous_day
    from {{ qualified }}
    where {{ qualified }}.customer_id is not null
    group by 1, 2, 3, 4, 5
),

day_pairs as (
    select
        later.organization_id,
        later.campaign_id,
        later.day_bucket,
        later.is_holdout,
        earlier.day_bucket as from_day,
        cast(count(*) filter (
            where earlier.day_bucket = later.day_bucket and later.previous_day is null
        ) as bigint) as new_customers,
        cast(count(*) filter (where earlier.day_bucket = later.previous_day) as bigint)
            as returning_customers,
        cast(sum(
            case
                when earlier.day_bucket = later.day_bucket then earlier.revenue * later.revenue
                else 2 * earlier.revenue * later.revenue
            end
        ) as numeric(38, 4)) as revenue_product
    from customer_days as later
    inner join customer_days as earlier
        on later.organization_id = earlier.organization_id
        and later.campaign_id = earlier.campaign_id
        and later.is_holdout = earlier.is_holdout
        and later.customer_id = earlier.customer_id
        and earlier.day_bucket <= later.day_bucket
    group by 1, 2, 3, 4, 5
)
{% endmacro %}
