{#- Fails with one row per (raw table, column) whose declared rule (not null:
    models/staging/support/_support__sources.yml, docs/support.md "NULLs in raw") some
    rows changed in the last var('reconcile_days') days break, with their number: those
    rows are left out of agg_support_rollup_daily (issue 16 F4). Failing rows are stored
    in ops.assert_support_raw_rules. Runs after the mart, so a failure never skips it;
    a Dagster check of agg_support_rollup_daily. -#}
{{
    config(
        severity='error',
        store_failures=true,
        tags=['support', 'sliding_window'],
        meta={'dagster': {'ref': {'name': 'agg_support_rollup_daily'}}},
    )
}}
-- depends_on: {{ ref('agg_support_rollup_daily') }}
{{ tally.raw_rules_failures('raw_support', {
    'reporting_events': ['account_id', 'name', 'created_at'],
    'messages': ['account_id', 'message_type', 'created_at'],
    'conversations': ['account_id', 'created_at'],
}, 'the support rollup') }}
