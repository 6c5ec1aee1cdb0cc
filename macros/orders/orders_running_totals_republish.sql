{#- Post-hook of agg_order_running_totals (inside its transaction): after a full refresh,
    create the published view marts.agg_order_running_totals again, on the new table.

    dbt builds a full refresh as a new table, renames the old one away and, after the
    commit, drops it with CASCADE, which would take the view (the model
    agg_order_running_totals_published) with it until a later run builds the view again.
    Re-creating the view here, in the transaction that swapped the tables, binds it to the
    new table before the old one is dropped: a SQL consumer never finds it missing. The
    view's relation comes from the graph (a ref would make the mart depend on its own
    view); its grants come from the schema's default privileges (tally.grant_reader).
    Also creates the view when it is missing (a database migrated from the layout before
    marts_internal, whose first tick moved the table). Does nothing on an incremental run
    that finds the view, or when the view model is not in the project. -#}
{% macro orders_running_totals_republish() %}
    {{ return(adapter.dispatch('orders_running_totals_republish', 'tally')()) }}
{% endmacro %}

{% macro default__orders_running_totals_republish() %}
    {{ tally.not_implemented('orders_running_totals_republish') }}
{% endmacro %}

{% macro postgres__orders_running_totals_republish() %}
    {%- if execute %}
        {%- set views = graph.nodes.values()
            | selectattr('resource_type', 'equalto', 'model')
            | selectattr('name', 'equalto', this.identifier ~ '_published') | list %}
        {%- set existing = none if not views else adapter.get_relation(
            database=views[0].database, schema=views[0].schema,
            identifier=views[0].alias or views[0].name) %}
        {%- if views and (should_full_refresh() or existing is none) %}
            {%- set view = api.Relation.create(
                database=views[0].database, schema=views[0].schema,
                identifier=views[0].alias or views[0].name, type='view') %}
            {#- dbt's relation cache links the old view to the old table, and drops it from
                the cache with that table: replace the entry with an unlinked one, so that
                the view model later in the same run finds the view it replaces -#}
            {%- do adapter.cache_dropped(view) %}
            {%- do adapter.cache_added(view) %}
            drop view if exists {{ view }};
            create view {{ view }} as
            {{ tally.orders_running_totals_published(this, tally.orders_running_blocks_relation()) }}
        {%- endif %}
    {%- endif %}
{% endmacro %}
