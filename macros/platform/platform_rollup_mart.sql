{#- A coarser rollup (UTC `grain` 'day' or ISO 'week', Monday) of an hourly platform mart,
    never rescanned from raw. Recomputes only the buckets the hourly mart changed since
    the last run (its queue in ops.platform_rollup_queue, see platform_rollup_prepare)
    and still fully covers; older rows are kept forever. `keys`: the grain in column order
    (`bucket_start` = the grain's start); `measures`: (column, aggregate, cast type or
    none) re-aggregating the hourly column of the same name. -#}
{% macro platform_rollup_mart(grain, hourly, keys, measures) %}
-- depends_on: {{ ref('stg_platform__workspaces') }}
{{ tally.platform_mart_config(
    unique_key=keys,
    events=[],
    tags=['platform_rollup'],
    pre_hook=[
        "{{ tally.mart_lock() }}",
        "{{ tally.platform_rollup_prepare('" ~ grain ~ "', 'marts." ~ hourly ~ "') }}",
    ],
    post_hook="{{ tally.sliding_window_record() }}",
) }}

with affected as (
    -- the affected ranges' hourly rows: one index range scan per affected row
    select hourly.*
    from {{ tally.sliding_window_rows(ref(hourly), 'workspace_id', 'bucket_start') }} as hourly
),

final as (
    select
        {%- for key in keys %}
        {% if key == 'bucket_start' %}{{ tally.utc_trunc(grain, 'affected.bucket_start') }} as bucket_start{% else %}affected.{{ key }}{% endif %},
        {%- endfor %}
        {%- for column, aggregate, cast_type in measures %}
        {% if cast_type %}cast({{ aggregate }}(affected.{{ column }}) as {{ cast_type }}){% else %}{{ aggregate }}(affected.{{ column }}){% endif %} as {{ column }},
        {%- endfor %}
        {{ tally.lineage_columns() }}
    from affected
    group by {{ range(1, keys | length + 1) | join(', ') }}
)

select * from final
{% endmacro %}


{#- The measures of agg_execution_metrics_hourly as its daily and weekly rollups
    re-aggregate them (platform_rollup_mart's `measures`). -#}
{% macro platform_execution_rollup_measures() %}
    {{ return([
        ('executions', 'sum', 'bigint'),
        ('duration_ms_sum', 'sum', 'bigint'),
        ('duration_ms_max', 'max', none),
        ('credits_used', 'sum', 'numeric(18, 4)'),
    ]) }}
{% endmacro %}
