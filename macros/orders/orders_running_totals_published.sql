{#- SELECT of the published running totals (marts.agg_order_running_totals): since each
    campaign's first order day, cum_<m> = the block's base_<m> + the block row's cum_<m>.
    One definition, two callers: the view model agg_order_running_totals_published, and
    orders_running_totals_republish (the running-totals mart's post-hook after a full
    refresh). Portable SQL: no dispatch. -#}
{% macro orders_running_totals_published(block_rows, blocks) %}
    {%- set measures = tally.orders_running_measures() %}
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
    from {{ block_rows }} as block_rows
    left join {{ blocks }} as blocks
        on block_rows.organization_id = blocks.organization_id
        and block_rows.campaign_id = blocks.campaign_id
        and block_rows.is_holdout = blocks.is_holdout
        and block_rows.block_start = blocks.block_start
{% endmacro %}
