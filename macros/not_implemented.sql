{#- The `default__` of a dispatched macro that has only a PostgreSQL implementation so
    far: fails compilation naming the macro and the adapter (the port's to-do list). -#}
{% macro not_implemented(macro_name) -%}
    {{ exceptions.raise_compiler_error(macro_name ~ " is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}
