{#- One row per (registered reporting event, dimension) for the accounts that are
    rolled up: the event's local day in the account's timezone, its metric from the
    registry, and the dimension it counts for - the account itself, the agent
    (user_id), the inbox (inbox_id) and the team (its conversation's current team,
    issue 18); a NULL agent, inbox or team skips that dimension (seed 002's
    BackfillService). Only the kinds the rollup holds ('events_excluding_bot_handoffs'
    is read from raw). Not filtered by time: the mart applies the sliding window to
    `created_at`, which PostgreSQL pushes down to raw's (account_id, created_at) index
    through this view. The body is tally.support_dimensioned (arguments:
    tally.support_dimensioned_args). -#}
{{ tally.support_dimensioned(
    **tally.support_dimensioned_args('int_support__events_dimensioned')
) }}
