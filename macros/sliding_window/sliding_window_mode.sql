{#- Which run this is (docs/incremental.md "Modes"):
      full     - first build / --full-refresh: everything, no affected set;
      rebuild  - var <rebuild_var> set: that whole tenant (optionally one scope value);
      backfill - vars window_start..window_end (local dates, inclusive); a reversed or
                 half-given range is a compile error;
      tick     - anything else: the sliding window plus what changed since the watermark. -#}
{% macro sliding_window_mode() %}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- set window_start = tally.run_var('window_start', none) -%}
    {%- set window_end = tally.run_var('window_end', none) -%}
    {%- if not is_incremental() -%}
        {{ return('full') }}
    {#- spec is {} at parse time, hence .get -#}
    {%- elif tally.run_var(spec.get('rebuild_var', 'rebuild_tenant_id'), none) is not none -%}
        {{ return('rebuild') }}
    {%- elif window_start is not none or window_end is not none -%}
        {%- if window_start is none or window_end is none -%}
            {{ exceptions.raise_compiler_error("pass both window_start and window_end (local dates, inclusive)") }}
        {%- endif -%}
        {%- if (window_start | string) > (window_end | string) -%}
            {{ exceptions.raise_compiler_error("window_start " ~ window_start ~ " is after window_end " ~ window_end) }}
        {%- endif -%}
        {{ return('backfill') }}
    {%- else -%}
        {{ return('tick') }}
    {%- endif -%}
{% endmacro %}


{#- Scope of a scoped rebuild (spec scope_column/scope_var, e.g. one campaign):
    (scope_column, value), or none. -#}
{% macro sliding_window_scope() %}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- if tally.sliding_window_mode() == 'rebuild' and spec.scope_var and tally.run_var(spec.scope_var, none) is not none -%}
        {{ return((spec.scope_column, tally.run_var(spec.scope_var) | int)) }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}


{#- The rebuilt tenant of a rebuild, or the backfilled one of a backfill restricted by
    spec backfill_tenant_var; none otherwise. -#}
{% macro sliding_window_tenant(spec, mode) %}
    {%- if mode == 'rebuild' -%}
        {{ return(tally.run_var(spec.rebuild_var) | int) }}
    {%- elif mode == 'backfill' and spec.backfill_tenant_var and tally.run_var(spec.backfill_tenant_var, none) is not none -%}
        {{ return(tally.run_var(spec.backfill_tenant_var) | int) }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}
