{#- The config the day-bucketed order marts share (agg_order_daily,
    agg_order_customer_daily): bucket_replace on (organization, local day) with the
    orders sliding-window spec. `unique_key`: the mart's grain; `index_sql`: the
    reader's covering index, created after every run (idempotent). -#}
{% macro orders_day_mart_config(unique_key, index_sql) %}
{{
    config(
        materialized='incremental',
        incremental_strategy='bucket_replace',
        on_schema_change='fail',
        unique_key=unique_key,
        bucket_column='day_bucket',
        bucket_kind='day',
        sliding_window=tally.orders_sliding_window(),
        pre_hook="{{ tally.sliding_window_prepare() }}",
        post_hook=["{{ tally.sliding_window_record() }}", index_sql],
        tags=['sliding_window'],
    )
}}
{% endmacro %}
