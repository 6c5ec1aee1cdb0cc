{#- One row per tenant: tenant_id, tz (validated, NULL when invalid), tenant_version. -#}
{% macro sliding_window_tenants(spec) -%}
    select
        tn.{{ spec.tenant_id }} as tenant_id,
        tn.{{ spec.timezone }} as tz,
        cast({{ spec.version }} as {{ tally.text_type() }}) as tenant_version
    from {{ ref(spec.tenants) }} as tn
{%- endmacro %}


{#- The first CTEs of sliding_window_prepare's statements (WITH included): tenants,
    valid (timezone known) and progress (this mart's watermark and version per tenant). -#}
{% macro sliding_window_base_ctes(spec) -%}
    with tenants as (
        {{ tally.sliding_window_tenants(spec) }}
    ),

    valid as (
        select tenants.* from tenants where tenants.tz is not null
    ),

    progress as (
        select pr.tenant_id, pr.watermark, pr.tenant_version
        from ops.aggregation_progress as pr
        where pr.mart = '{{ this.identifier }}'
    ),
{%- endmacro %}


{#- CTE `since`: the oldest watermark of a valid tenant, minus the lag. -#}
{% macro sliding_window_since(lag) -%}
    since as (
        select coalesce(min(progress.watermark), {{ tally.earliest_instant() }}) - {{ lag }} as watermark
        from progress
        inner join valid on progress.tenant_id = valid.tenant_id
    ),
{%- endmacro %}


{#- An instant before every watermark (a tenant without progress reads every change). -#}
{% macro earliest_instant() -%}
    {{ return(adapter.dispatch('earliest_instant', 'tally')()) }}
{%- endmacro %}

{% macro default__earliest_instant() -%}
    {{ tally.not_implemented('earliest_instant') }}
{%- endmacro %}

{% macro postgres__earliest_instant() -%}
    '-infinity'
{%- endmacro %}

{#- Spark's timestamps have no infinity; the raw contract's instants are all later -#}
{% macro spark__earliest_instant() -%}
    timestamp'1970-01-01 00:00:00'
{%- endmacro %}
