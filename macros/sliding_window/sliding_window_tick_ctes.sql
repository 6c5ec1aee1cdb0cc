{#- Tick: `whole` = tenants that are new, re-versioned (timezone, config) or gone;
    `changed` = the change events since the oldest watermark (from <model>__changed
    with `carry`); `days` = sliding_window_tick_days; `keys` (key mode) = every
    (tenant, key) holding an event newer than the tenant's watermark. -#}
{% macro sliding_window_tick_ctes(spec, lag, carry) -%}
    {{ tally.sliding_window_tick_whole() }},

    {{ tally.sliding_window_since(lag) }}

    changed as (
        {%- if carry %}
        select changed.tenant_id, changed.ts, changed.key_value, changed.follow_value,
            changed.event, changed.changed_at
        from {{ this.identifier ~ '__changed' }} as changed
        {%- else %}
        {{ tally.sliding_window_changed(spec, {}) }}
        {%- endif %}
    ),

    days as (
        {{ tally.sliding_window_tick_days(spec, lag) }}
    ),

    keys as (
        -- key mode: every (tenant, key) holding a row changed since the tenant's watermark
        select changed.tenant_id, changed.key_value
        from changed
        inner join valid on changed.tenant_id = valid.tenant_id
        inner join progress on changed.tenant_id = progress.tenant_id
        where changed.key_value is not null
            and changed.changed_at > progress.watermark - {{ lag }}
    ),
{%- endmacro %}


{#- CTE `whole` of a tick (after sliding_window_base_ctes): the tenants that are new,
    re-versioned (timezone, config) or gone - the Spark engine's tick too. -#}
{% macro sliding_window_tick_whole() -%}
    whole as (
        -- new tenants and tenants whose timezone/config changed: rebuild whole
        select valid.tenant_id
        from valid
        left join progress on valid.tenant_id = progress.tenant_id
        where progress.tenant_id is null
            or progress.tenant_version is distinct from valid.tenant_version
        union
        -- tenants that are gone (or lost their timezone): remove their rows
        select progress.tenant_id
        from progress
        where not exists (select 1 from tenants where tenants.tenant_id = progress.tenant_id)
    )
{%- endmacro %}
