{#-
    A run-specific parameter (backfill window, rebuild scope, reconcile days, recompute
    run id): the value Dagster passes for this dbt invocation in the environment variable
    TALLY_RUN_VARS (a JSON object), else the dbt var of the same name (a `--vars` given
    by hand, or the safe default in dbt_project.yml).

    Read at execution time only (`execute`): at parse time dbt records every env_var() a
    file calls and re-parses that file when the value changes, and any change of `--vars`
    makes dbt re-parse the whole project ("Unable to do partial parsing because config
    vars ... have changed", dbt-core#6323). Parameters passed this way keep the saved
    partial parse valid from one run to the next.
-#}
{% macro run_var(name, default=none) %}
    {%- if execute -%}
        {%- set run_vars = fromjson(env_var('TALLY_RUN_VARS', '{}')) -%}
        {%- if name in run_vars -%}
            {{ return(run_vars[name]) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(var(name, default)) }}
{% endmacro %}
