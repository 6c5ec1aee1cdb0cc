{#-
    Custom incremental strategy `bucket_replace` (dbt's get_incremental_<name>_sql hook).

    Replaces whole buckets: the target rows of the affected set (`<model>__affected`,
    macros/sliding_window/sliding_window_affected.sql) are compared with the recomputed
    rows, and only the rows that are gone, new or changed are deleted and inserted, in
    the model's single transaction (bucket_replace_diff). A bucket whose raw rows all
    disappeared (archived, failed rules, deleted, excluded type) therefore disappears
    too - dbt's merge and microbatch strategies leave such rows behind. Without a
    unique_key: delete every row of the affected buckets, insert every recomputed row.

    Config: unique_key (the grain), bucket_column, bucket_kind ('day' | 'instant' |
    'key'), bucket_suffix (true | N days), tenant_column (default the spec's tenant_id):
    which target rows an affected row covers is bucket_replace_branches.
    Optional `affected_relation={'relation': <temp table>, 'match': [cols]}`: delete
    `lo <= bucket_column < hi` per row of that table, matching the listed columns
    (metric_snapshots: per report and window - see macros/snapshots/).
    Admin rebuild with var full_refresh_sweep: mark-and-sweep (bucket_replace_sweep).
    Every path records the days it changed (rows written or deleted) in
    ops.mart_days_written (bucket_replace_record_days), in the same transaction.
-#}
{% macro get_incremental_bucket_replace_sql(arg_dict) %}
    {{ return(adapter.dispatch('bucket_replace_sql', 'tally')(arg_dict)) }}
{% endmacro %}

{% macro default__bucket_replace_sql(arg_dict) %}
    {{ tally.not_implemented('bucket_replace_sql') }}
{% endmacro %}


{#- delete ... using, ctid, on conflict -#}
{% macro postgres__bucket_replace_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set dest_cols = arg_dict['dest_columns'] | map(attribute='name') | list -%}
    {%- set unique_key = config.get('unique_key') -%}
    {%- if unique_key is string -%}{%- set unique_key = [unique_key] -%}{%- endif -%}
    {%- set bucket = config.get('bucket_column', 'day_bucket') -%}
    {%- if tally.sliding_window_mode() == 'rebuild' and tally.run_var('full_refresh_sweep', false) -%}
    {{ tally.bucket_replace_sweep(target, source, dest_cols, unique_key) }}
    {%- elif config.get('affected_relation') -%}
        {%- set custom = config.get('affected_relation') %}
    {%- set deleted %}
    deleted as (
        delete from {{ target }} as t
        using {{ custom['relation'] }} as sw
        where t.{{ bucket }} >= sw.lo
            and t.{{ bucket }} < sw.hi
            {%- for c in custom.get('match', []) %}
            and t.{{ c }} = sw.{{ c }}
            {%- endfor %}
        returning t.{{ bucket }}
    )
    {%- endset %}
    {{ tally.bucket_replace_record_days(
        'select deleted.' ~ bucket ~ ' from deleted union all select s.' ~ bucket ~ ' from ' ~ source ~ ' as s',
        ctes=deleted) }};
    insert into {{ target }} ({{ dest_cols | join(', ') }})
    select {{ dest_cols | join(', ') }} from {{ source }}
    {%- elif unique_key -%}
    {{ tally.bucket_replace_diff(target, source, dest_cols, unique_key, tally.bucket_replace_branches()) }}
    {%- else -%}
    {%- for branch in tally.bucket_replace_branches() %}
    {%- set deleted %}
    deleted as (
        delete from {{ target }} as t
        using {{ tally.sliding_window_affected() }} as sw
        where {{ branch }}
        returning t.{{ bucket }}
    )
    {%- endset %}
    {{ tally.bucket_replace_record_days('select deleted.' ~ bucket ~ ' from deleted', ctes=deleted) }};
    {%- endfor %}
    insert into {{ target }} ({{ dest_cols | join(', ') }})
    select {{ dest_cols | join(', ') }} from {{ source }};
    {{ tally.bucket_replace_record_days('select s.' ~ bucket ~ ' from ' ~ source ~ ' as s') }}
    {%- endif -%}
{% endmacro %}
