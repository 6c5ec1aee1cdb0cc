{#- The order measures of agg_order_daily per (organization, campaign, arm, local day)
    of `relation` (qualifying attributions with day_bucket) - the per-day increments
    agg_order_running_totals accumulates. -#}
{% macro _running_totals_daily(relation) %}
    select
        {{ relation }}.organization_id,
        {{ relation }}.campaign_id,
        {{ relation }}.is_holdout,
        {{ relation }}.day_bucket,
        count(*) as total_orders,
        count(*) filter (where {{ relation }}.is_first_purchase) as first_purchase_orders,
        count(*) filter (where not {{ relation }}.is_first_purchase) as repeat_orders,
        count(*) filter (where {{ relation }}.is_subscription) as subscription_orders,
        count(*) filter (where {{ relation }}.is_discount_matched) as discount_matched_orders,
        count(*) filter (where {{ relation }}.is_new_subscriber) as new_subscribers,
        sum({{ relation }}.order_value) as revenue,
        coalesce(sum({{ relation }}.order_value) filter (where {{ relation }}.is_first_purchase), 0)
            as first_purchase_revenue,
        coalesce(sum({{ relation }}.order_value) filter (where not {{ relation }}.is_first_purchase), 0)
            as repeat_revenue,
        coalesce(sum({{ relation }}.order_value) filter (where {{ relation }}.is_subscription), 0)
            as subscription_revenue
    from {{ relation }}
    group by 1, 2, 3, 4
{% endmacro %}
