{#- Reconciliation test body: the hourly `mart` equals a from-scratch aggregate of the raw
    rows (staging model `stg_platform__<source>`, alias `src`, of existing workspaces)
    per UTC hour of `ts` over the last `reconcile_days` - finished hours only, and only
    what raw still fully holds (retention cleanup removes raw rows, not aggregates).
    `keys`: the grain in column order (`bucket_start` = the hour); `where`: row condition;
    `measures`: column -> aggregate expression over `src` (written in the test, not taken
    from the model). Attached to `mart` as a Dagster asset check. -#}
{% macro platform_hourly_matches_raw(mart, source, ts, keys, where, measures) %}
{{ config(meta={'dagster': {'ref': {'name': mart}}}) }}
with bounds as (
    select
        greatest(
            {{ tally.utc_trunc('hour', 'now()') }} - interval '{{ tally.run_var("reconcile_days") }} days',
            coalesce((
                select h.horizon from ops.retention_horizons as h where h.relation = 'raw.{{ source }}'
            ), '-infinity')
        ) as lo,
        {{ tally.utc_trunc('hour', 'now()') }} as hi
),

expected as (
    select
        {%- for key in keys %}
        {% if key == 'bucket_start' %}{{ tally.utc_trunc('hour', 'src.' ~ ts) }} as bucket_start{% else %}src.{{ key }}{% endif %},
        {%- endfor %}
        {%- for column, expression in measures.items() %}
        {{ expression }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('stg_platform__' ~ source) }} as src
    inner join {{ ref('stg_platform__workspaces') }} as ws on src.workspace_id = ws.workspace_id
    cross join bounds
    where {{ where }}
        and src.{{ ts }} >= bounds.lo
        and src.{{ ts }} < bounds.hi
    group by {{ range(1, keys | length + 1) | join(', ') }}
),

actual as (
    select {% for column in keys + (measures | list) %}m.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ ref(mart) }} as m
    cross join bounds
    where m.bucket_start >= bounds.lo and m.bucket_start < bounds.hi
),

diff as (
    (select 'missing_or_different' as problem, * from expected except select 'missing_or_different', * from actual)
    union all
    (select 'unexpected_or_different' as problem, * from actual except select 'unexpected_or_different', * from expected)
)

select * from diff
{% endmacro %}
