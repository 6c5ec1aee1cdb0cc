{#- The rows of `relation` (alias r) matching `conditions` (SQL over r and the affected
    row sw), one LATERAL lookup per affected row passing `sw_filter` (none: every row).
    OFFSET 0 keeps the subquery from being flattened, so each lookup is an index scan.
    With `body` (a macro taking a FROM item, see sliding_window_grouped) the lookup is
    that query over the matching rows instead. Shared by sliding_window_rows,
    sliding_window_grouped and orders_campaign_rows. -#}
{% macro sliding_window_lateral(relation, conditions, sw_filter=none, body=none) -%}
    {{ return(adapter.dispatch('sliding_window_lateral', 'tally')(relation, conditions, sw_filter, body)) }}
{%- endmacro %}

{% macro default__sliding_window_lateral(relation, conditions, sw_filter, body) -%}
    {{ tally.not_implemented('sliding_window_lateral') }}
{%- endmacro %}

{#- LATERAL + OFFSET 0: PostgreSQL's per-row subquery that the planner keeps as such -#}
{% macro postgres__sliding_window_lateral(relation, conditions, sw_filter, body) -%}
        select swr.*
        from {{ tally.sliding_window_affected() }} as sw
        cross join lateral (
            {%- if body is none %}
            select r.*
            from {{ relation }} as r
            where {{ conditions | join('\n                and ') }}
            offset 0
            {%- else %}
            {{ body('(\n                select r.*\n                from ' ~ relation ~ ' as r\n                where ' ~ (conditions | join('\n                    and ')) ~ '\n            )') }}
            {%- endif %}
        ) as swr
        {%- if sw_filter is not none %}
        where {{ sw_filter }}
        {%- endif %}
{%- endmacro %}
