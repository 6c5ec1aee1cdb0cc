{#- The on-run hooks on Spark (docs/scale-out.md). Spark's session cursor runs one
    statement per call, so a hook that needs several runs them through run_query and
    is itself `select 1`.

    ops on Spark holds what the engine reads and writes: aggregation_progress (one
    partition per mart, rewritten by the mart's record hook), mart_runs (appended) and
    timezone_names (the JVM's zone IDs, written by `tally spark load`). The change
    capture tables, the reader role, model_failures and mart_days_written are
    PostgreSQL's: their hooks do nothing here. -#}
{% macro spark__ensure_ops_schema() %}
    {%- if execute -%}
    {%- for statement in [
        "create database if not exists ops",
        "create database if not exists marts",
        "create table if not exists ops.aggregation_progress (tenant_id bigint, watermark timestamp,"
            ~ " last_run_id string, last_run_at timestamp, tenant_version string, mart string)"
            ~ " using parquet partitioned by (mart)",
        "create table if not exists ops.mart_runs (mart string, run_id string, mode string,"
            ~ " started_at timestamp, watermark timestamp, affected_buckets bigint) using parquet",
        "create table if not exists ops.timezone_names (name string) using parquet",
    ] -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {%- endif -%}
    select 1
{% endmacro %}

{% macro spark__record_model_failures(results) %}
    select 1
{% endmacro %}

{% macro spark__grant_reader(schemas) %}
    select 1
{% endmacro %}

{% macro spark__prune_raw_changes() %}
    select 1
{% endmacro %}

{% macro spark__prune_mart_days_written() %}
    select 1
{% endmacro %}
