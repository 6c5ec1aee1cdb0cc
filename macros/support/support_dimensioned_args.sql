{#- The arguments of tally.support_dimensioned per int_support__*_dimensioned view, in one
    place: the views render them with the default conversation join, and the mart's
    account-day reads (tally.support_dimensioned_rows) render the same body with the
    per-row conversation lookup - one definition, two plans. -#}
{% macro support_dimensioned_args(view) %}
    {%- set args = {
        'int_support__events_dimensioned': {
            'model': 'stg_support__reporting_events',
            'rows': 'events',
            'count_kinds': ['events', 'distinct_conversations'],
            'agent': 'events.user_id',
            'measured': true,
        },
        'int_support__messages_dimensioned': {
            'model': 'stg_support__messages',
            'rows': 'messages',
            'count_kinds': ['messages'],
            'agent': 'conversations.assignee_id',
        },
        'int_support__conversations_dimensioned': {
            'model': 'stg_support__conversations',
            'rows': 'conversations',
            'count_kinds': ['conversations'],
            'agent': 'conversations.assignee_id',
        },
    } -%}
    {%- if view not in args -%}
        {{ exceptions.raise_compiler_error("support_dimensioned_args: unknown view " ~ view) }}
    {%- endif -%}
    {{ return(args[view]) }}
{% endmacro %}
