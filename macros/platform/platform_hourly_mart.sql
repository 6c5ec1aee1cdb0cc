{#- An hourly platform mart: rows of one raw table (through its staging model
    `stg_platform__<source>`) of existing workspaces, counted per UTC hour of `ts` and the
    `keys`; sliding-window incremental (tag sliding_window), never recomputing buckets
    before the raw table's retention horizon. `keys` is the grain in column order
    (`bucket_start` = the hour); `where`: extra row conditions on the `<source>` CTE;
    `measures`: aggregate select expressions over `counted`; `rollups`: coarser marts
    (daily / weekly) to queue what each run recomputed for. -#}
{% macro platform_hourly_mart(source, ts, keys, measures, where=[], rollups=[]) %}
{%- set post_hook = "{{ tally.sliding_window_record() }}" -%}
{%- if rollups -%}
    {%- set post_hook = ["{{ tally.platform_enqueue_rollups(" ~ rollups ~ ") }}", post_hook] -%}
{%- endif -%}
{{ tally.platform_mart_config(
    unique_key=keys,
    events=[{'model': 'stg_platform__' ~ source, 'tenant': 'workspace_id', 'ts': ts, 'raw_table': source}],
    tags=['sliding_window', 'platform_hourly'],
    pre_hook=[
        "{{ tally.mart_lock() }}",
        "{{ tally.sliding_window_prepare() }}",
        "{{ tally.platform_clamp_to_horizon('raw." ~ source ~ "') }}",
    ],
    post_hook=post_hook,
) }}

with workspaces as (
    select * from {{ ref('stg_platform__workspaces') }}
),

counted as (
    -- the affected buckets' rows: one (workspace_id, ts) index range scan per affected row
    select {{ source }}.*
    from {{ tally.sliding_window_rows(ref('stg_platform__' ~ source), 'workspace_id', ts) }} as {{ source }}
    inner join workspaces on {{ source }}.workspace_id = workspaces.workspace_id
    {%- for condition in where %}
    {{ 'where' if loop.first else '    and' }} {{ condition }}
    {%- endfor %}
),

final as (
    select
        {%- for key in keys %}
        {% if key == 'bucket_start' %}{{ tally.utc_trunc('hour', 'counted.' ~ ts) }} as bucket_start{% else %}counted.{{ key }}{% endif %},
        {%- endfor %}
        {%- for measure in measures %}
        {{ measure }},
        {%- endfor %}
        {{ tally.lineage_columns() }}
    from counted
    group by {{ range(1, keys | length + 1) | join(', ') }}
)

select * from final
{% endmacro %}
