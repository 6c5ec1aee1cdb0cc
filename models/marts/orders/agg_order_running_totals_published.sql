{#- marts.agg_order_running_totals: the running totals since each campaign's first order
    day, correct read on its own. The incremental model agg_order_running_totals (schema
    marts_internal) accumulates within 28-day blocks so that a late change rewrites one
    block; its block table holds each block's base (the sum of the earlier blocks). This
    view adds the two: cum_<m> here = base_<m> + the block row's cum_<m>.

    A view, not a table: the values change with every tick and a table would rewrite a
    campaign's later history on each late change (what the blocks avoid). The left join
    on the block table's primary key lets PostgreSQL drop the join when a query reads no
    measure (count(*), max(last_updated)); every block row exists (the block table is
    kept in the mart's transaction), so no measure is ever NULL. The report reader keeps
    reading the block rows and the bases directly (two index probes per arm,
    docs/reader.md). A full build of agg_order_running_totals drops this view with the
    tables it reads; the next `tally run` (or a dbt build selecting it) creates it again. -#}
{{ config(materialized='view', alias='agg_order_running_totals', tags=['downstream_of_window']) }}

{%- set measures = tally.orders_running_measures() %}

with block_rows as (
    select * from {{ ref('agg_order_running_totals') }}
),

blocks as (
    select * from {{ tally.internal_relation(ref('agg_order_running_totals').identifier ~ '__blocks') }}
),

final as (
    select
        block_rows.organization_id,
        block_rows.campaign_id,
        block_rows.is_holdout,
        block_rows.day_bucket,
        {%- for m in measures %}
        cast(blocks.base_{{ m }} + block_rows.cum_{{ m }} as {{ tally.orders_running_type(m) }}) as cum_{{ m }},
        {%- endfor %}
        block_rows.last_updated,
        block_rows.run_id
    from block_rows
    left join blocks
        on block_rows.organization_id = blocks.organization_id
        and block_rows.campaign_id = blocks.campaign_id
        and block_rows.is_holdout = blocks.is_holdout
        and block_rows.block_start = blocks.block_start
)

select * from final
