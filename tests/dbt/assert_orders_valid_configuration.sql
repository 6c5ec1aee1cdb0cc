{#- Fails naming every organization whose reporting timezone is not a valid IANA name
    or whose excluded_attributions is not a JSON array of strings: the order marts skip
    those tenants (their rows stay as last aggregated) until the configuration is fixed.
    Failing rows are stored in ops.assert_orders_valid_configuration (the check names
    the tenants). Depends on the last order mart so a failure never skips a mart in `dbt build`,
    and on agg_order_daily, the asset it is a Dagster check of: dagster-dbt makes a singular
    test a check only of an asset it depends on (without that line it was logged as an
    observation and never shown as a failing check). -#}
{{ config(severity='error', store_failures=true, meta={'dagster': {'ref': {'name': 'agg_order_daily'}}}) }}
-- depends_on: {{ ref('agg_campaign_recipient_totals') }}
-- depends_on: {{ ref('agg_order_daily') }}

select
    organizations.organization_id,
    organizations.organization_name,
    organizations.reporting_timezone,
    case
        when not organizations.has_valid_timezone
            then 'reporting_timezone ' || coalesce(organizations.reporting_timezone, 'NULL') || ' is not a valid IANA name'
        else 'configuration.excluded_attributions is not a JSON array of strings'
    end as problem
from {{ ref('int_orders__organizations_validated') }} as organizations
where not organizations.has_valid_timezone
    or not organizations.has_valid_exclusions
