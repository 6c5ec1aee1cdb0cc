{#- Post-hook of every sliding-window mart: the progress record. Full, tick and
    whole-tenant rebuild runs advance ops.aggregation_progress (watermark, run, tenant
    version) of every valid tenant they covered (backfills and scoped rebuilds do not
    cover every change); full and tick runs drop the progress of vanished tenants; every
    run is logged in ops.mart_runs with its mode and number of affected rows. -#}
{% macro sliding_window_record() %}
    {{ return(adapter.dispatch('sliding_window_record', 'tally')()) }}
{% endmacro %}

{% macro default__sliding_window_record() %}
    {{ tally.not_implemented('sliding_window_record') }}
{% endmacro %}

{#- insert ... on conflict do update -#}
{% macro postgres__sliding_window_record() %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set mode = tally.sliding_window_mode() -%}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- set mart = this.identifier -%}
    {%- set scope = tally.sliding_window_scope() -%}
    {%- if mode in ('full', 'tick') or (mode == 'rebuild' and scope is none) %}
    with tenants as (
        {{ tally.sliding_window_tenants(spec) }}
    )
    insert into ops.aggregation_progress as pr
        (mart, tenant_id, watermark, last_run_id, last_run_at, tenant_version)
    select '{{ mart }}', tenants.tenant_id, now(), '{{ invocation_id }}', now(), tenants.tenant_version
    from tenants
    where tenants.tz is not null
    {%- if mode == 'rebuild' %}
        and tenants.tenant_id = {{ tally.sliding_window_tenant(spec, mode) }}
    {%- endif %}
    on conflict (mart, tenant_id) do update set
        watermark = excluded.watermark,
        last_run_id = excluded.last_run_id,
        last_run_at = excluded.last_run_at,
        tenant_version = excluded.tenant_version;
    {%- endif %}
    {%- if mode in ('full', 'tick') %}
    with tenants as (
        {{ tally.sliding_window_tenants(spec) }}
    )
    delete from ops.aggregation_progress as pr
    where pr.mart = '{{ mart }}'
        and not exists (select 1 from tenants where tenants.tenant_id = pr.tenant_id);
    {%- endif %}
    insert into ops.mart_runs (mart, run_id, mode, started_at, watermark, affected_buckets)
    values (
        '{{ mart }}', '{{ invocation_id }}', '{{ mode }}', now(), now(),
        {% if mode == 'full' %}null{% else %}(select count(*) from {{ tally.sliding_window_affected() }}){% endif %}
    )
    on conflict (mart, run_id) do nothing
{% endmacro %}
