{#- Generic test (on the source tally_ops.model_failures, one per incremental mart; see
    models/ops/_ops__sources.yml): fails, one row, when `mart` has failed in every run
    since its watermark (ops.aggregation_progress) and the oldest of those failures is at
    least one tick interval old (TALLY_STALL_AFTER_MINUTES, default 15). It does not depend
    on the mart, so dbt still runs it when the mart fails; orchestration/stall_checks.py
    makes it the mart's Dagster asset check. -#}
{% test mart_not_stalled(model, mart) %}
with watermark as (
    select max(progress.watermark) as at
    from ops.aggregation_progress as progress
    where progress.mart = '{{ mart }}'
),

failures as (
    select failures.*
    from {{ model }} as failures
    cross join watermark
    where failures.mart = '{{ mart }}'
        and failures.failed_at > coalesce(watermark.at, '-infinity')
)

select
    '{{ mart }}' as mart,
    (select watermark.at from watermark) as watermark,
    count(*) as failed_runs,
    min(failures.failed_at) as first_failure,
    max(failures.failed_at) as last_failure,
    (array_agg(failures.error order by failures.failed_at desc))[1] as error
from failures
having count(*) > 0
    and min(failures.failed_at) <= now() - interval '{{ env_var("TALLY_STALL_AFTER_MINUTES", "15") | int }} minutes'
{% endtest %}
