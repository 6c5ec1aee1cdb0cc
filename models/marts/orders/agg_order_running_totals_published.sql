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
    docs/reader.md). A full refresh of agg_order_running_totals re-creates this view in its
    own transaction (tally.orders_running_totals_republish, the same SELECT), so dbt's drop
    of the old table never leaves marts without it. -#}
{{ config(materialized='view', alias='agg_order_running_totals', tags=['downstream_of_window']) }}

{{ tally.orders_running_totals_published(
    ref('agg_order_running_totals'),
    tally.internal_relation(ref('agg_order_running_totals').identifier ~ '__blocks'),
) }}
