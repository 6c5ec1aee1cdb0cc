{#-
    `bucket_replace` on Spark: dbt-spark's incremental materialization knows only its
    own strategies (append, merge, insert_overwrite, microbatch) and asks two macros
    about them; the root project's macros of the same names come first in dbt's lookup,
    so these two add `bucket_replace` and hand every other strategy to dbt-spark.
-#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
    {%- if raw_strategy == 'bucket_replace' -%}
        {%- if file_format != 'parquet' -%}
            {{ exceptions.raise_compiler_error(this.identifier ~ ": bucket_replace on Spark writes parquet partitions (file_format " ~ file_format ~ "); docs/scale-out.md says how Delta would MERGE instead") }}
        {%- endif -%}
        {{ return(raw_strategy) }}
    {%- endif -%}
    {{ return(dbt_spark.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{% endmacro %}


{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) %}
    {%- if strategy == 'bucket_replace' -%}
        {{ return(tally.spark__bucket_replace_sql(source, target)) }}
    {%- endif -%}
    {{ return(dbt_spark.dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates)) }}
{% endmacro %}


{#-
    The affected partitions replaced whole. `source` is dbt-spark's temporary view of the
    model's SELECT (the affected days of every tenant, or the affected tenants of a
    tenant-partitioned mart, recomputed; tally.spark_partition):
      1. its rows are written once to `<model>__next` (the view is not evaluated twice,
         and the mart is never read by the statement that overwrites it);
      2. the rows of tenants without a valid timezone in those days are carried over
         (the window skips such a tenant and keeps its rows, as on PostgreSQL);
      3. affected partitions with no row left are dropped - a bucket whose raw rows all
         vanished disappears (dynamic overwrite alone would keep it);
      4. one INSERT OVERWRITE replaces the partitions that have rows.
    A failure before 3 leaves the mart as it was; 3 only drops partitions that must be
    empty. Step 4 is Spark's dynamic partition overwrite, partition by partition.
-#}
{% macro spark__bucket_replace_sql(source, target) %}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- set partition = tally.spark_partition() -%}
    {%- set bucket = partition.column -%}
    {%- set tenant_col = config.get('tenant_column', spec.tenant_id) -%}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='name') | list -%}
    {%- set next = tally.internal_schema() ~ '.' ~ this.identifier ~ '__next' -%}
    {%- set affected = tally.spark_affected() -%}
    {%- do run_query('drop table if exists ' ~ next) -%}
    {%- do run_query('create table ' ~ next ~ ' using parquet as select ' ~ columns | join(', ') ~ ' from ' ~ source) -%}
    {%- set carried -%}
        insert into {{ next }}
        select {{ columns | join(', ') }}
        from {{ target }} as t
        where t.{{ bucket }} in (select sw.{{ partition.affected }} from {{ affected }} as sw)
            and t.{{ tenant_col }} in (
                select tenants.tenant_id from ({{ tally.sliding_window_tenants(spec) }}) as tenants
                where tenants.tz is null
            )
    {%- endset -%}
    {%- do run_query(carried) -%}
    {%- set emptied -%}
        select distinct cast(sw.{{ partition.affected }} as string) as value
        from {{ affected }} as sw
        left anti join {{ next }} as n on sw.{{ partition.affected }} = n.{{ bucket }}
        order by 1
    {%- endset -%}
    {%- set values = run_query(emptied).columns[0].values() -%}
    {%- set by_day = partition.affected == 'day_bucket' -%}
    {%- for batch in values | batch(500) -%}
        {%- set specs = [] -%}
        {%- for value in batch -%}
            {%- set literal = "date'" ~ value ~ "'" if by_day else value -%}
            {%- do specs.append("partition (" ~ bucket ~ " = " ~ literal ~ ")") -%}
        {%- endfor -%}
        {%- do run_query('alter table ' ~ target ~ ' drop if exists ' ~ specs | join(', ')) -%}
    {%- endfor -%}
    insert overwrite table {{ target }} partition ({{ bucket }})
    select {{ columns | join(', ') }} from {{ next }}
{% endmacro %}
