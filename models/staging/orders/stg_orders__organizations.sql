{#- One row per organization, renamed and cast only. The configuration is validated in
    int_orders__organizations_validated (the one home of that rule). -#}
with organizations as (
    select * from {{ source('raw_orders', 'organizations') }}
),

final as (
    select
        organizations.id as organization_id,
        organizations.name as organization_name,
        organizations.reporting_timezone,
        organizations.configuration,
        {{ tally.json_member('organizations.configuration', 'excluded_attributions') }} as configured_exclusions,
        organizations.updated_at
    from organizations
)

select * from final
