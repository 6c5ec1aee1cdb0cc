{#- Accounts without a reporting_timezone: not rolled up (as in seed 002; their
    reports fall back to raw events). A warning that lists them, never a failure. -#}
{{
    config(
        severity='warn',
        tags=['support', 'sliding_window'],
        meta={'dagster': {'ref': {'name': 'agg_support_rollup_daily'}}},
    )
}}
-- runs after the mart, so a failure never skips the accounts that are fine:
-- depends_on: {{ ref('agg_support_rollup_daily') }}

select
    accounts.id as account_id,
    accounts.name as account_name
from {{ source('raw_support', 'accounts') }} as accounts
where accounts.reporting_timezone is null
