{#- The config the campaign-keyed order marts share (agg_campaign_recipient_totals,
    agg_order_customer_day_pairs, agg_order_running_totals): bucket_replace per
    (organization, campaign) - key mode of the orders sliding window. `unique_key`: the
    mart's grain; `index_sql`: an optional reader index, created after every run. -#}
{% macro orders_campaign_mart_config(unique_key, index_sql=none) %}
{%- set post_hook = ["{{ tally.sliding_window_record() }}"] -%}
{%- if index_sql is not none -%}
    {%- do post_hook.append(index_sql) -%}
{%- endif -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='bucket_replace',
        on_schema_change='fail',
        unique_key=unique_key,
        bucket_column='campaign_id',
        bucket_kind='key',
        sliding_window=tally.orders_sliding_window(key='campaign_id'),
        pre_hook="{{ tally.sliding_window_prepare() }}",
        post_hook=post_hook,
        tags=['sliding_window'],
    )
}}
{% endmacro %}


{#- The campaigns the reconcile checks compare: created in the last
    var('reconcile_days') days, of organizations with a valid configuration. -#}
{% macro orders_recent_campaigns() %}
    select c.campaign_id, c.organization_id
    from {{ ref('stg_orders__campaigns') }} as c
    inner join {{ ref('stg_orders__organizations') }} as o on c.organization_id = o.organization_id
    where o.aggregation_timezone is not null
        and c.created_at >= now() - interval '{{ var("reconcile_days") | int }} days'
{% endmacro %}
