{#- The campaigns the reconcile checks compare: created in the last
    var('reconcile_days') days, of organizations with a valid configuration. -#}
{% macro orders_recent_campaigns() %}
    select c.campaign_id, c.organization_id
    from {{ ref('stg_orders__campaigns') }} as c
    inner join {{ ref('int_orders__organizations_validated') }} as o on c.organization_id = o.organization_id
    where o.aggregation_timezone is not null
        and c.created_at >= now() - interval '{{ tally.run_var("reconcile_days") | int }} days'
{% endmacro %}
