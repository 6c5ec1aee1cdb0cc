{#- The support tenants: accounts with a reporting timezone set (seed 002: NULL = no
    rollups). `timezone` is the validated IANA name, NULL when `reporting_timezone` is
    not a zone PostgreSQL knows - that account is skipped by the rollup and named by
    the failing check assert_support_account_timezones_valid. -#}
with accounts as (
    select * from {{ source('raw_support', 'accounts') }}
),

zones as (
    select tzn.name from {{ tally.timezone_names() }} as tzn
),

final as (
    select
        accounts.id as account_id,
        accounts.name as account_name,
        accounts.reporting_timezone,
        zones.name as timezone,
        accounts.updated_at
    from accounts
    left join zones on accounts.reporting_timezone = zones.name
    where accounts.reporting_timezone is not null
)

select * from final
