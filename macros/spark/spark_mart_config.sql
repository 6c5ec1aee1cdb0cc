{#- The engine-specific part of a mart's config(), to splat into it: on Spark a parquet
    table, partitioned by `partition_by` (a day mart's bucket column, or none for a
    table rebuilt whole), tagged `spark` when `supported`, its YAML contract not enforced
    (the contracts name PostgreSQL types: timestamptz, text; tests/test_spark.py checks
    the rows instead); on PostgreSQL only the tags. -#}
{% macro spark_mart_config(partition_by=none, tags=[], supported=true) %}
    {%- if adapter.type() != 'spark' -%}
        {{ return({'tags': tags}) }}
    {%- endif -%}
    {{ return({
        'file_format': 'parquet',
        'partition_by': partition_by if supported else none,
        'contract': {'enforced': false},
        'tags': tags + (['spark'] if supported else []),
    }) }}
{% endmacro %}
