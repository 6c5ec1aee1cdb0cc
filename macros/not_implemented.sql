{#- The `default__` of a dispatched macro that has only a PostgreSQL implementation so
    far: fails compilation naming the model, the macro and the adapter (the port's to-do
    list). At parse time it renders nothing, so that every model parses on every adapter
    (a Spark project parses the PostgreSQL-only marts too) and only running one fails. -#}
{% macro not_implemented(macro_name) -%}
    {%- if execute -%}
    {{ exceptions.raise_compiler_error(
        (this.identifier ~ ": " if this is not none else "") ~ macro_name
        ~ " is not implemented for adapter " ~ adapter.type()
        ~ (" (this model is PostgreSQL-only: docs/scale-out.md lists what runs on Spark)" if adapter.type() == 'spark' else "")) }}
    {%- endif -%}
{%- endmacro %}


{#- The SQL type of text: `text` on PostgreSQL, `string` on Spark. -#}
{% macro text_type() -%}
    {{ return(adapter.dispatch('text_type', 'tally')()) }}
{%- endmacro %}

{% macro default__text_type() -%}
    {{ dbt.type_string() }}
{%- endmacro %}

{% macro postgres__text_type() -%}
    text
{%- endmacro %}

{% macro spark__text_type() -%}
    string
{%- endmacro %}
