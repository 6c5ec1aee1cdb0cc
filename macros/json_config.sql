{#- The JSON of a tenant's configuration (raw `configuration`: jsonb on PostgreSQL, a
    JSON string on Spark), read by int_orders__organizations_validated and
    stg_orders__organizations. One macro per question the models ask. -#}

{#- The member `key` of the JSON object `json` (JSON, or NULL when absent). -#}
{% macro json_member(json, key) -%}
    {{ return(adapter.dispatch('json_member', 'tally')(json, key)) }}
{%- endmacro %}

{% macro default__json_member(json, key) -%}
    {{ tally.not_implemented('json_member') }}
{%- endmacro %}

{% macro postgres__json_member(json, key) -%}
    {{ json }} -> '{{ key }}'
{%- endmacro %}

{#- get_json_object answers the member's JSON text (NULL for a JSON null) -#}
{% macro spark__json_member(json, key) -%}
    get_json_object({{ json }}, '$.{{ key }}')
{%- endmacro %}


{#- True when `json` is NULL, JSON null or an array of strings; false otherwise. -#}
{% macro json_is_text_list(json) -%}
    {{ return(adapter.dispatch('json_is_text_list', 'tally')(json)) }}
{%- endmacro %}

{% macro default__json_is_text_list(json) -%}
    {{ tally.not_implemented('json_is_text_list') }}
{%- endmacro %}

{#- a path test, not a subquery: where the planner nests the organizations view per
    attribution row, a subquery costs a sub-plan per row (three times) -#}
{% macro postgres__json_is_text_list(json) -%}
    case
            when {{ json }} is null or jsonb_typeof({{ json }}) = 'null' then true
            when jsonb_typeof({{ json }}) <> 'array' then false
            else not jsonb_path_exists({{ json }}, '$[*] ? (@.type() != "string")')
        end
{%- endmacro %}

{#- the variant's schema: ARRAY<STRING>, or ARRAY<VOID> for [] (and for [null], hence
    the length) -#}
{% macro spark__json_is_text_list(json) -%}
    case
            when {{ json }} is null then true
            else schema_of_variant(parse_json({{ json }})) = 'ARRAY<STRING>'
                or (schema_of_variant(parse_json({{ json }})) = 'ARRAY<VOID>' and json_array_length({{ json }}) = 0)
        end
{%- endmacro %}


{#- A valid text list (json_is_text_list) as the set to test membership in: the list
    as configured, an empty list for NULL. -#}
{% macro json_text_set(json) -%}
    {{ return(adapter.dispatch('json_text_set', 'tally')(json)) }}
{%- endmacro %}

{% macro default__json_text_set(json) -%}
    {{ tally.not_implemented('json_text_set') }}
{%- endmacro %}

{% macro postgres__json_text_set(json) -%}
    case when jsonb_typeof({{ json }}) = 'array' then {{ json }} else '[]'::jsonb end
{%- endmacro %}

{% macro spark__json_text_set(json) -%}
    coalesce({{ json }}, '[]')
{%- endmacro %}


{#- Whether `value` is in a json_text_set. -#}
{% macro json_text_set_contains(set, value) -%}
    {{ return(adapter.dispatch('json_text_set_contains', 'tally')(set, value)) }}
{%- endmacro %}

{% macro default__json_text_set_contains(set, value) -%}
    {{ tally.not_implemented('json_text_set_contains') }}
{%- endmacro %}

{% macro postgres__json_text_set_contains(set, value) -%}
    {{ set }} ? {{ value }}
{%- endmacro %}

{% macro spark__json_text_set_contains(set, value) -%}
    array_contains(from_json({{ set }}, 'array<string>'), {{ value }})
{%- endmacro %}


{#- A valid text list's distinct members, sorted: as JSON (`joined` false) or joined
    with commas (`joined` true; '' for an empty or NULL list). -#}
{% macro json_text_list_sorted(json, joined=false) -%}
    {{ return(adapter.dispatch('json_text_list_sorted', 'tally')(json, joined)) }}
{%- endmacro %}

{% macro default__json_text_list_sorted(json, joined=false) -%}
    {{ tally.not_implemented('json_text_list_sorted') }}
{%- endmacro %}

{% macro postgres__json_text_list_sorted(json, joined=false) -%}
    coalesce(
                (
                    select {% if joined %}string_agg(distinct element.value, ',' order by element.value){% else %}jsonb_agg(distinct element.value order by element.value){% endif %}
                    from jsonb_array_elements_text(
                        case when jsonb_typeof({{ json }}) = 'array' then {{ json }} end
                    ) as element
                ),
                {% if joined %}''{% else %}'[]'::jsonb{% endif %}
            )
{%- endmacro %}

{% macro spark__json_text_list_sorted(json, joined=false) -%}
    {%- set members = "array_sort(array_distinct(coalesce(from_json(" ~ json ~ ", 'array<string>'), array())))" -%}
    {% if joined %}array_join({{ members }}, ','){% else %}to_json({{ members }}){% endif %}
{%- endmacro %}
