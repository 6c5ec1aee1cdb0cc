{{ tally.orders_day_mart_config(
    unique_key=['organization_id', 'campaign_id', 'day_bucket', 'is_holdout'],
    index_sql="drop index if exists {{ this.schema }}.agg_order_daily_org_day_idx; {{ tally.mart_index('agg_order_daily_org_day_key_idx', '(organization_id, day_bucket)') }}",
) }}
{#- The reader's org + day range path. No INCLUDE list: the reader reads every measure,
    so a covering index would have to carry the whole row; a narrow one costs a tick's
    inserts less. (`agg_order_daily_org_day_idx`, a covering index of three measures
    that no query could use index-only, is dropped where an older build left it.) -#}
-- depends_on: {{ ref('int_orders__organizations_validated') }}
-- depends_on: {{ ref('stg_orders__attributions') }}

-- one aggregate per affected bucket in incremental runs (sliding_window_grouped), one
-- over every qualifying order in a full build; count(distinct) per bucket either way.
-- (The full build used to roll up one row per customer and bucket first to avoid the
-- count(distinct) sort; since raw's partial covering (campaign_id, ordered_at) index
-- feeds it index-only, the single sort-based level is faster: 6.8 vs 8.2 s at scale 100.)
with final as (
    {% call(rows) tally.sliding_window_grouped(
        ref('int_orders__attributions_qualified'), 'organization_id', 'ordered_at',
        scope_col='campaign_id', key_col='campaign_id'
    ) -%}
    select
        qualified.organization_id,
        qualified.campaign_id,
        qualified.day_bucket,
        qualified.is_holdout,
        cast(count(*) as bigint) as total_orders,
        cast(sum(qualified.order_value) as numeric(16, 2)) as revenue,
        cast(sum(case when qualified.is_first_purchase then 1 else 0 end) as bigint) as first_purchase_orders,
        cast(coalesce(sum(case when qualified.is_first_purchase then qualified.order_value end), 0) as numeric(16, 2))
            as first_purchase_revenue,
        cast(sum(case when qualified.is_first_purchase then 0 else 1 end) as bigint) as repeat_orders,
        cast(
            sum(qualified.order_value)
            - coalesce(sum(case when qualified.is_first_purchase then qualified.order_value end), 0)
            as numeric(16, 2)
        ) as repeat_revenue,
        cast(sum(case when qualified.is_subscription then 1 else 0 end) as bigint) as subscription_orders,
        cast(coalesce(sum(case when qualified.is_subscription then qualified.order_value end), 0) as numeric(16, 2))
            as subscription_revenue,
        cast(sum(case when qualified.is_discount_matched then 1 else 0 end) as bigint) as discount_matched_orders,
        cast(count(distinct qualified.customer_id) as bigint) as unique_customers,
        cast(sum(case when qualified.is_new_subscriber then 1 else 0 end) as bigint) as new_subscribers,
        {{ tally.lineage_columns() }}
    from {{ rows }} as qualified
    group by 1, 2, 3, 4
    {%- endcall %}
)

select * from final
