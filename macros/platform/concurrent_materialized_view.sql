{#-
    Materialization `concurrent_materialized_view` (PostgreSQL).

    dbt's built-in `materialized_view` refreshes with a plain REFRESH, which takes an
    ACCESS EXCLUSIVE lock: every reader waits for the whole refresh. This one:

      * first run, changed SQL or unique_key, or --full-refresh: builds the view under a
        temporary name with its unique index, then swaps it in (one transaction);
      * every other run: `refresh materialized view concurrently` - it takes only an
        EXCLUSIVE lock, so readers keep reading the previous contents meanwhile.

    Config: unique_key (column or list; required - CONCURRENTLY needs a unique index
    on plain columns covering every row). The compiled SQL's md5 is kept in the view's
    comment to notice a changed definition.
-#}
{% materialization concurrent_materialized_view, adapter='postgres' %}
    {%- set unique_key = config.get('unique_key') -%}
    {%- if not unique_key -%}
        {{ exceptions.raise_compiler_error("concurrent_materialized_view " ~ this ~ " needs unique_key (refresh concurrently requires a unique index)") }}
    {%- endif -%}
    {%- if unique_key is string -%}{%- set unique_key = [unique_key] -%}{%- endif -%}

    {%- set target = this.incorporate(type='materialized_view') -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- set marker = 'tally:sql_md5=' ~ local_md5(sql ~ '|' ~ (unique_key | join(','))) -%}
    {%- set index_name = target.identifier ~ '_uidx' -%}
    {%- set ns = namespace(rebuild=(existing is none or existing.type != 'materialized_view' or should_full_refresh())) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if not ns.rebuild -%}
        {%- set found = run_query("select obj_description(to_regclass('" ~ target ~ "'), 'pg_class')") -%}
        {%- if found.columns[0].values()[0] != marker -%}
            {%- set ns.rebuild = true -%}
        {%- endif -%}
    {%- endif -%}

    {%- if ns.rebuild -%}
        {%- set fresh = api.Relation.create(
            database=target.database, schema=target.schema,
            identifier=target.identifier ~ '__tally_new', type='materialized_view') -%}
        {% call statement('main') -%}
            drop materialized view if exists {{ fresh }};
            create materialized view {{ fresh }} as (
                {{ sql }}
            );
            create unique index {{ fresh.identifier }}_uidx on {{ fresh }} ({{ unique_key | join(', ') }});
            {%- if existing is not none %}
            drop {{ 'materialized view' if existing.type == 'materialized_view' else existing.type }} {{ existing }};
            {%- endif %}
            alter materialized view {{ fresh }} rename to {{ target.identifier }};
            alter index {{ target.schema }}.{{ fresh.identifier }}_uidx rename to {{ index_name }};
            comment on materialized view {{ target }} is '{{ marker }}';
        {%- endcall %}
    {%- else -%}
        {% call statement('main') -%}
            refresh materialized view concurrently {{ target }}
        {%- endcall %}
    {%- endif -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {%- set grant_config = config.get('grants') -%}
    {%- do apply_grants(target, grant_config, should_revoke=ns.rebuild) -%}

    {{ return({'relations': [target]}) }}
{% endmaterialization %}
