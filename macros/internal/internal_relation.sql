{#- The schema of the side tables the engine keeps for fast ticks (ledgers, running
    blocks, rank prefixes) and of the models only those tables' readers need: never part
    of the public contract (docs/contract.md). One name, used by every hook that keeps
    such a table; models/internal/_internal__sources.yml declares what is in it. -#}
{% macro internal_schema() -%}
    {{ return('marts_internal') }}
{%- endmacro %}


{#- The relation `identifier` in the internal schema (e.g. this.identifier ~ '__blocks'). -#}
{% macro internal_relation(identifier) -%}
    {#- Spark has no database level (the schema is the database) -#}
    {{ return(api.Relation.create(database=target.database if target.database is defined else none,
                                  schema=tally.internal_schema(),
                                  identifier=identifier, type='table')) }}
{%- endmacro %}
