{#- WHERE predicate: the row lies in an affected bucket (`true` in full mode). Only for
    small inputs (a generated calendar in agg_integration_usage_daily):
    on a large table the EXISTS can be planned as a scan of the whole table - read large
    tables with sliding_window_rows or sliding_window_grouped.
    `bucket_expr`: the row's bucket (its local day). Spark recomputes affected partitions
    whole, for every tenant, so there the predicate is "the row's day is an affected
    partition" and needs it (macros/spark/spark_sliding_window.sql). -#}
{% macro sliding_window_filter(tenant_expr, ts_expr, scope_expr=none, bucket_expr=none) -%}
    {%- if tally.sliding_window_mode() == 'full' -%}
        true
    {%- elif adapter.type() == 'spark' -%}
        {%- if bucket_expr is none -%}
            {{ exceptions.raise_compiler_error(this.identifier ~ ": sliding_window_filter needs bucket_expr on Spark (the row's day)") }}
        {%- endif -%}
        {{ tally.spark_affected_days_filter(bucket_expr) }}
    {%- else -%}
        exists (
            select 1
            from {{ tally.sliding_window_affected() }} as sw
            where sw.tenant_id = {{ tenant_expr }}
                and {{ ts_expr }} >= sw.lo
                and {{ ts_expr }} < sw.hi
        )
        {%- set scope = tally.sliding_window_scope() -%}
        {%- if scope is not none and scope_expr is not none %}
        and {{ scope_expr }} = {{ scope[1] }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
