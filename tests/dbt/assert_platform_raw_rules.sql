{#- Fails with one row per (raw table, column) whose declared rule (not null:
    models/staging/platform/_platform__sources.yml, docs/platform.md "NULLs in raw") some
    rows changed in the last var('reconcile_days') days break, with their number: those
    rows are left out of every platform rollup (issue 16 F4; the rows themselves are
    listed by assert_platform_no_excluded_records). Failing rows are stored in
    ops.assert_platform_raw_rules. Runs after the hourly marts, so a failure never skips
    them; a Dagster check of agg_execution_metrics_hourly. -#}
{{
    config(
        severity='error',
        store_failures=true,
        meta={'dagster': {'ref': {'name': 'agg_execution_metrics_hourly'}}},
    )
}}
-- depends_on: {{ ref('agg_execution_metrics_hourly') }}
-- depends_on: {{ ref('agg_user_activity_hourly') }}
{{ tally.raw_rules_failures('raw_platform', {
    'executions': ['workspace_id', 'started_at'],
    'user_activity': ['workspace_id', 'user_id', 'occurred_at'],
}, 'the platform rollups') }}
