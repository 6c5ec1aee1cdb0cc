{{ tally.orders_day_mart_config(
    unique_key=['organization_id', 'campaign_id', 'day_bucket', 'is_holdout', 'customer_id'],
    index_sql="{{ tally.mart_index('agg_order_customer_daily_org_day_idx', '(organization_id, day_bucket) include (campaign_id, is_holdout, customer_id, orders, revenue)') }}",
) }}
-- depends_on: {{ ref('int_orders__organizations_validated') }}
-- depends_on: {{ ref('stg_orders__attributions') }}

-- one aggregate per affected bucket in incremental runs (sliding_window_grouped), one
-- over every qualifying order in a full build
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
        qualified.customer_id,
        cast(count(*) as bigint) as orders,
        cast(sum(qualified.order_value) as numeric(16, 2)) as revenue,
        {{ tally.lineage_columns() }}
    from {{ rows }} as qualified
    where qualified.customer_id is not null
    group by 1, 2, 3, 4, 5
    {%- endcall %}
)

select * from final
