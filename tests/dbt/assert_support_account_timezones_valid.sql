{#- Accounts whose reporting_timezone is not an IANA zone PostgreSQL knows. They are
    skipped by agg_support_rollup_daily (the other accounts proceed); this check fails
    and names them. Fix: set raw.accounts.reporting_timezone to a valid name (e.g.
    'America/New_York') or NULL. -#}
{{
    config(
        tags=['support', 'sliding_window'],
        meta={'dagster': {'ref': {'name': 'agg_support_rollup_daily'}}},
    )
}}
-- runs after the mart, so a failure never skips the accounts that are fine:
-- depends_on: {{ ref('agg_support_rollup_daily') }}

select
    accounts.account_id,
    accounts.account_name,
    accounts.reporting_timezone
from {{ ref('stg_support__accounts') }} as accounts
where accounts.timezone is null
