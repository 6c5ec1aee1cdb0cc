{#- Every snapshot row's run_id is the dbt invocation of a completed or still-running
    recompute run in ops.recompute_runs (lineage). -#}
{{ config(meta={'dagster': {'ref': {'name': 'metric_snapshots'}}}) }}
with run_ids as (
    select distinct run_id from {{ ref('metric_snapshots') }}
)

select run_ids.run_id
from run_ids
where not exists (
    select 1
    from ops.recompute_runs as runs
    where runs.dbt_invocation_id = run_ids.run_id
        and runs.status in ('running', 'completed')
)
