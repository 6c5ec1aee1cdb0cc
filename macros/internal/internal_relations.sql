{#- Everything declared to live in the internal schema, from the project's graph: the
    tables of source tally_internal (kept by a mart's hooks) and the models whose schema
    is the internal one. Each: {identifier, owner (the mart that keeps it), reader (true
    when the report reader reads it: granted SELECT to tally_reader, the others are
    revoked)}. Empty at parse time. -#}
{% macro internal_relations() -%}
    {%- set out = [] -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() if node.source_name == 'tally_internal' -%}
            {%- set meta = (node.config.meta or node.meta or {}).get('tally', {}) -%}
            {%- do out.append({'identifier': node.identifier, 'owner': meta.get('owner'),
                               'reader': meta.get('reader', false)}) -%}
        {%- endfor -%}
        {%- for node in graph.nodes.values()
                if node.resource_type == 'model' and node.schema == tally.internal_schema() -%}
            {%- set meta = (node.config.meta or {}).get('tally', {}) -%}
            {%- do out.append({'identifier': node.alias or node.name, 'owner': node.name,
                               'reader': meta.get('reader', false)}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(out | sort(attribute='identifier')) }}
{%- endmacro %}
