{#-
    Pre-hook of every sliding-window mart: builds the affected set `<model>__affected`
    (sliding_window_affected.sql) for the run's mode (sliding_window_mode.sql):

      rebuild, backfill with backfill_whole   whole tenants      sliding_window_whole_ctes
      backfill                                 the window's days  sliding_window_backfill_ctes
      tick                                     window + changes   sliding_window_tick_ctes

    Each mode program is a list of CTEs `whole` (tenant_id), `days` (tenant_id,
    day_bucket, key_value) and `keys` (tenant_id, key_value) after the shared `tenants`,
    `valid`, `progress` CTEs; sliding_window_final turns them into affected rows with
    their kind. A tick with `carry` events first keeps its change events as
    <model>__changed (sliding_window_changed_table). Full mode: nothing (no filter).
    The mode programs are PostgreSQL SQL (generate_series, LATERAL, temp tables on
    commit drop, analyze) and only postgres__sliding_window_prepare calls them.
-#}
{% macro sliding_window_prepare() %}
    {{ return(adapter.dispatch('sliding_window_prepare', 'tally')()) }}
{% endmacro %}

{% macro default__sliding_window_prepare() %}
    {{ tally.not_implemented('sliding_window_prepare') }}
{% endmacro %}

{% macro postgres__sliding_window_prepare() %}
    {%- set mode = tally.sliding_window_mode() -%}
    {%- if mode == 'full' -%}
        select 1
    {%- else -%}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- set affected = tally.sliding_window_affected() -%}
    {%- set lag = "interval '" ~ tally.run_var('watermark_lag_minutes') ~ " minutes'" -%}
    {%- set carry = {} -%}
    {%- for e in spec.events %}{% do carry.update(e.carry) %}{% endfor -%}
    {%- if carry and mode == 'tick' %}
    -- events with `carry`: the changed rows (with the carried columns) of every valid
    -- tenant since its own watermark, kept as <model>__changed for the model
    {{ tally.sliding_window_changed_table(spec, carry, lag) }}
    {%- endif %}
    {{ tally.sliding_window_affected_create() }};
    insert into {{ affected }} (kind, tenant_id, key_value, day_bucket, lo, hi)
    {{ tally.sliding_window_base_ctes(spec) }}

    {% if mode == 'rebuild' or (mode == 'backfill' and spec.backfill_whole) -%}
    {{ tally.sliding_window_whole_ctes(spec, mode) }}
    {%- elif mode == 'backfill' -%}
    {{ tally.sliding_window_backfill_ctes(spec) }}
    {%- else -%}
    {{ tally.sliding_window_tick_ctes(spec, lag, carry) }}
    {%- endif %}

    {{ tally.sliding_window_final(spec) }}

    select * from final;
    analyze {{ affected }}
    {%- endif -%}
{% endmacro %}
