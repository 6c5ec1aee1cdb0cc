{#- One row per (registered message, dimension) of the rolled-up accounts (issue 18):
    the message's local day in the account's timezone, its metric from the registry
    (event_name 'message_' || message_type), and the dimensions it counts for - the
    account, the inbox (the message's), the agent (its conversation's assignee) and
    the team (its conversation's team). Agent and team are the conversation's current
    ones: raw keeps no history, so a moved or reassigned conversation takes its
    messages along (the mart recomputes their days through
    int_support__messages_conversation_dated). A message without a conversation of its
    account is in no agent and no team row. Not filtered by time (the mart's lateral
    lookup uses raw's (account_id, created_at) index). The body is
    tally.support_dimensioned (arguments: tally.support_dimensioned_args). -#}
{{ tally.support_dimensioned(
    **tally.support_dimensioned_args('int_support__messages_dimensioned')
) }}
