{#- A mart's reader index, as a post-hook statement: `create index if not exists <name>
    on <this> <definition>`. On a full build the index is dropped first: dbt runs the
    post-hooks after renaming the old table to its backup and before dropping it, so the
    old table's index still holds the name, and a bare `if not exists` skipped the index
    on every full refresh of an existing mart - the next tick built it instead (its
    seconds counted as the tick's, the full build's and the bench's rebuild as less than
    they were), and readers went without it until then. Dispatched: postgres__;
    default__ is a no-op (an engine without secondary indexes). -#}
{% macro mart_index(name, definition) %}
    {{ return(adapter.dispatch('mart_index', 'tally')(name, definition)) }}
{% endmacro %}

{% macro default__mart_index(name, definition) %}
    select 1
{% endmacro %}

{% macro postgres__mart_index(name, definition) %}
    {%- if not is_incremental() %}
    drop index if exists {{ this.schema }}.{{ name }};
    {%- endif %}
    create index if not exists {{ name }} on {{ this }} {{ definition }}
{% endmacro %}
