{#- One row per (conversation, dimension) of the rolled-up accounts for the registry's
    'conversations' metrics (conversations_count; issue 18): the conversation's local
    day of creation, and the account, inbox, agent (assignee) and team it counts for -
    the current ones (a change bumps the conversation's updated_at, so the sliding
    window recomputes its day). The body is tally.support_dimensioned (arguments:
    tally.support_dimensioned_args). -#}
{{ tally.support_dimensioned(
    **tally.support_dimensioned_args('int_support__conversations_dimensioned')
) }}
