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
{%- set rules = {
    'attributions': ['organization_id', 'campaign_id', 'ordered_at', 'order_value', 'attribution_type',
                     'is_holdout', 'passes_rules', 'archived'],
    'campaign_recipients': ['organization_id', 'campaign_id', 'is_holdout'],
} %}

with
{%- for table, columns in rules.items() %}
{{ table }}_rows as (
    select
        {%- for c in columns %}
        count(*) filter (where r.{{ c }} is null) as {{ c }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ source('raw_orders', table) }} as r
    where r.updated_at > now() - interval '{{ var("reconcile_days") | int }} days'
),
{%- endfor %}

final as (
    {%- for table, columns in rules.items() %}
    {%- set outer = loop %}
    {%- for c in columns %}
    select
        'raw.{{ table }}' as table_name,
        '{{ c }}' as column_name,
        {{ table }}_rows.{{ c }} as null_rows,
        'raw.{{ table }}.{{ c }} is NULL in ' || {{ table }}_rows.{{ c }}
            || ' rows changed in the last {{ var("reconcile_days") | int }} days: they are left out of the order marts' as problem
    from {{ table }}_rows
    where {{ table }}_rows.{{ c }} > 0
    {%- if not (outer.last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
)

select * from final
