{#- The affected rows of one int_support__*_dimensioned view as a FROM item - how
    agg_support_rollup_daily reads its input (issue 18). Like tally.sliding_window_rows
    (the view itself in a full build), except that affected account-days (`day` rows)
    read the view's body with a per-row conversation lookup (support_dimensioned,
    conversation_lookup='probe'): a few thousand rows of one day probe
    `conversations_pkey` instead of hashing the account's every conversation. Whole
    accounts (`tenant` rows: a new account, a timezone change, a rebuild) read the view,
    whose hash join is cheaper when most of the account is read. -#}
{% macro support_dimensioned_rows(view) -%}
    {%- set args = tally.support_dimensioned_args(view) -%}
    {%- if tally.sliding_window_mode() == 'full' or args.rows == 'conversations' -%}
    {{ tally.sliding_window_rows(ref(view), 'account_id', 'created_at') }}
    {%- else -%}
    {%- set conditions = tally.sliding_window_conditions('account_id', 'created_at', none, none) -%}
    {%- set body = tally.support_dimensioned(conversation_lookup='probe', **args) -%}
    (
        {{ tally.sliding_window_lateral(ref(view), conditions.day, "sw.kind = 'tenant'") }}
        union all
        {{ tally.sliding_window_lateral('(\n' ~ body ~ '\n)', conditions.day, "sw.kind <> 'tenant'") }}
    )
    {%- endif -%}
{%- endmacro %}
