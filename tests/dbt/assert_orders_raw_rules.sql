{#- Fails with one row per (raw table, column) whose declared rule (not null:
    models/staging/orders/_orders__sources.yml, docs/orders.md "NULLs in raw") some rows
    break, with their number: those rows are left out of every order mart (issue 16 F4).
    Counts the rows changed in the last var('reconcile_days') days (the tick: 3, through
    the raw (updated_at) index; `tally tick --full-reconcile`: 60) - the source tests
    (`tally dbt -- test --select source:raw_orders`) count all of them. Failing rows are
    stored in ops.assert_orders_raw_rules. Depends on the last order marts so a failure
    never skips a mart in `dbt build`; a Dagster check of agg_order_daily (see
    assert_orders_valid_configuration). -#}
{{ config(severity='error', store_failures=true, meta={'dagster': {'ref': {'name': 'agg_order_daily'}}}) }}
-- depends_on: {{ ref('agg_campaign_recipient_totals') }}
-- depends_on: {{ ref('agg_order_daily') }}
{{ tally.raw_rules_failures('raw_orders', {
    'attributions': ['organization_id', 'campaign_id', 'ordered_at', 'order_value', 'attribution_type',
                     'is_holdout', 'passes_rules', 'archived'],
    'campaign_recipients': ['organization_id', 'campaign_id', 'is_holdout'],
}, 'the order marts') }}
