{#- Admin rebuild with var full_refresh_sweep (`tally rebuild --full-refresh`):
    mark-and-sweep (seed 000) - upsert every recomputed row of the scope (refreshing
    last_updated), then delete the scope's rows this run did not touch. Readers see
    the old rows until the new ones commit. Every upserted row is written (run_id), so
    its day and every swept row's are recorded in ops.mart_days_written. -#}
{% macro bucket_replace_sweep(target, source, dest_cols, unique_key) %}
    {{ return(adapter.dispatch('bucket_replace_sweep', 'tally')(target, source, dest_cols, unique_key)) }}
{% endmacro %}

{% macro default__bucket_replace_sweep(target, source, dest_cols, unique_key) %}
    {{ tally.not_implemented('bucket_replace_sweep') }}
{% endmacro %}

{% macro postgres__bucket_replace_sweep(target, source, dest_cols, unique_key) %}
    {%- if not unique_key -%}
        {{ exceptions.raise_compiler_error("mark-and-sweep needs unique_key on " ~ this) }}
    {%- endif -%}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- set scope = tally.sliding_window_scope() -%}
    {%- set update_cols = dest_cols | reject('in', unique_key) | list %}
    -- mark: upsert every recomputed row of the scope, refreshing last_updated
    insert into {{ target }} ({{ dest_cols | join(', ') }})
    select {{ dest_cols | join(', ') }} from {{ source }}
    on conflict ({{ unique_key | join(', ') }}) do update set
        {%- for c in update_cols %}
        {{ c }} = excluded.{{ c }}{{ ',' if not loop.last }}
        {%- endfor %};
    -- sweep: rows of the scope this run did not touch; the days of every upserted and
    -- swept row are recorded (bucket_replace_record_days)
    {%- set bucket = config.get('bucket_column', 'day_bucket') %}
    {%- set swept %}
    swept as (
        delete from {{ target }} as t
        where t.{{ config.get('tenant_column', spec.tenant_id) }} = {{ tally.sliding_window_tenant(spec, 'rebuild') }}
            {%- if scope is not none %}
            and t.{{ scope[0] }} = {{ scope[1] }}
            {%- endif %}
            and t.last_updated < now()
        returning t.{{ bucket }}
    )
    {%- endset %}
    {{ tally.bucket_replace_record_days(
        'select s.' ~ bucket ~ ' from ' ~ source ~ ' as s union all select swept.' ~ bucket ~ ' from swept',
        ctes=swept) }}
{% endmacro %}
