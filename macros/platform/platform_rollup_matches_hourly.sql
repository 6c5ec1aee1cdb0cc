{#- Reconciliation test body: the `rollup` mart equals the roll-up (UTC `grain` 'day' or
    'week') of the `hourly` mart for every bucket the hourly mart still fully covers and has
    no change queued for (the hourly mart itself is reconciled against raw). `keys`: the
    grain in column order (`bucket_start` = the grain's start); `measures`: column ->
    aggregate re-applied to the hourly column (written in the test, not taken from the
    model). Attached to `rollup` as a Dagster asset check. -#}
{% macro platform_rollup_matches_hourly(rollup, grain, hourly, keys, measures) %}
{{ config(meta={'dagster': {'ref': {'name': rollup}}}) }}
with horizon as (
    select greatest(
        {{ tally.utc_trunc(grain, "now() - interval '" ~ tally.run_var("reconcile_days") ~ " days'") }},
        {{ tally.platform_ceil("coalesce((select h.horizon from ops.retention_horizons as h where h.relation = 'marts." ~ hourly ~ "'), '-infinity')", grain) }}
    ) as lo
),

pending as (
    select q.workspace_id, q.lo, q.hi
    from ops.platform_rollup_queue as q
    where q.consumer = '{{ rollup }}'
),

expected as (
    select
        {%- for key in keys %}
        {% if key == 'bucket_start' %}{{ tally.utc_trunc(grain, 'h.bucket_start') }} as bucket_start{% else %}h.{{ key }}{% endif %},
        {%- endfor %}
        {%- for column, aggregate in measures.items() %}
        {{ aggregate }}(h.{{ column }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref(hourly) }} as h
    where h.bucket_start >= (select horizon.lo from horizon)
    group by {{ range(1, keys | length + 1) | join(', ') }}
),

actual as (
    select {% for column in keys + (measures | list) %}m.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ ref(rollup) }} as m
    where m.bucket_start >= (select horizon.lo from horizon)
),

diff as (
    (select 'missing_or_different' as problem, * from expected except select 'missing_or_different', * from actual)
    union all
    (select 'unexpected_or_different' as problem, * from actual except select 'unexpected_or_different', * from expected)
)

select diff.*
from diff
cross join horizon
where diff.bucket_start >= horizon.lo
    and not exists (
        select 1 from pending
        where pending.workspace_id = diff.workspace_id
            and pending.hi > diff.bucket_start
            and pending.lo < diff.bucket_start + interval '1 {{ grain }}'
    )
{% endmacro %}
