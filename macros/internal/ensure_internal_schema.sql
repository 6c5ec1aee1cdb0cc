{#- on-run-start: the internal schema exists, and a database built before it existed
    (every side table, and agg_order_running_totals' own table, in schema marts) is
    migrated on its first run: each declared internal relation still found as a table in
    marts is moved (ALTER TABLE ... SET SCHEMA keeps its rows, indexes and constraints,
    so the marts keep ticking incrementally). dbt's relation cache, filled before this
    hook, learns the move, so the run's models see the tables where they now are. The
    grants follow in on-run-end (tally.grant_reader_internal). -#}
{% macro ensure_internal_schema() -%}
    {{ return(adapter.dispatch('ensure_internal_schema', 'tally')()) }}
{%- endmacro %}


{#- Portable: the schema only (an engine without ALTER TABLE ... SET SCHEMA has no
    database of the old layout to migrate). -#}
{% macro default__ensure_internal_schema() -%}
    create schema if not exists {{ tally.internal_schema() }}
{%- endmacro %}


{% macro postgres__ensure_internal_schema() -%}
    {%- set internal = tally.internal_schema() -%}
    create schema if not exists {{ internal }};
    {%- for item in tally.internal_relations() %}
        {%- set old = adapter.get_relation(database=target.database, schema='marts',
                                           identifier=item.identifier) -%}
        {%- set new = adapter.get_relation(database=target.database, schema=internal,
                                           identifier=item.identifier) -%}
        {%- if old is not none and old.is_table and new is none %}
    alter table {{ old }} set schema {{ internal }};
            {%- do adapter.cache_renamed(old, old.incorporate(path={'schema': internal})) -%}
        {%- endif -%}
    {%- endfor %}
{%- endmacro %}
