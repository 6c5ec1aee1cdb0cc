{#- One row per organization (the tenant of the order marts), its configuration
    validated - the one home of that rule (the reader reads this view too).

    * `timezone`: the reporting timezone when it is a valid IANA name, else NULL
      (left join to the server's zone list; `at time zone` would fail the whole
      statement on a typo, so one tenant's bad value must not reach it).
    * `configured_exclusions`: excluded_attributions as configured (any JSON, or NULL).
    * `excluded_attributions`: the configured json array of attribution types, or
      NULL (and `has_valid_exclusions = false`) when it is not an array of strings.
    * `exclusion_set`: the same types as configured (unsorted; for membership tests).
    * `aggregation_timezone`: the zone the marts aggregate in - NULL when either the
      timezone or the exclusions are invalid, so the sliding window skips the tenant
      (its rows stay as they were) and assert_orders_valid_configuration names it.
    * `config_version`: timezone + normalized exclusions; a change rebuilds the tenant.
-#}
with organizations as (
    select * from {{ ref('stg_orders__organizations') }}
),

zones as (
    select zone.name from {{ tally.timezone_names() }} as zone
),

typed as (
    select
        organizations.organization_id,
        organizations.organization_name,
        organizations.reporting_timezone,
        organizations.configuration,
        organizations.configured_exclusions as raw_exclusions,
        organizations.updated_at
    from organizations
),

checked as (
    select
        typed.*,
        zones.name as timezone,
        {{ tally.json_is_text_list('typed.raw_exclusions') }} as has_valid_exclusions
    from typed
    left join zones on typed.reporting_timezone = zones.name
),

final as (
    select
        checked.organization_id,
        checked.organization_name,
        checked.reporting_timezone,
        checked.raw_exclusions as configured_exclusions,
        checked.timezone,
        checked.timezone is not null as has_valid_timezone,
        case
            when not checked.has_valid_exclusions then null
            else {{ tally.json_text_list_sorted('checked.raw_exclusions') }}
        end as excluded_attributions,
        -- the same set as configured (unsorted, no aggregate): what the qualified
        -- attributions test membership against - it is evaluated per attribution row
        -- where the planner nests the organization lookup, and the sorted form above
        -- costs a sort and an aggregate each time
        case
            when checked.has_valid_exclusions then {{ tally.json_text_set('checked.raw_exclusions') }}
        end as exclusion_set,
        checked.has_valid_exclusions,
        case when checked.has_valid_exclusions then checked.timezone end as aggregation_timezone,
        concat_ws(
            '|',
            coalesce(checked.timezone, '!' || checked.reporting_timezone),
            case when checked.has_valid_exclusions then
                {{ tally.json_text_list_sorted('checked.raw_exclusions', joined=true) }}
            else '!invalid' end
        ) as config_version,
        checked.updated_at
    from checked
)

select * from final
