{#- Raw analytics events, typed. Unfiltered: the snapshot model and the sliding window
    read every row (the window's change detection needs `updated_at`). -#}
with events as (
    select * from {{ source('raw_snapshots', 'analytics_events') }}
),

final as (
    select
        events.id as event_id,
        events.source_id,
        events.entity_id,
        events.status,
        events.processing_ms,
        events.amount_cents,
        events.occurred_at,
        events.updated_at
    from events
)

select * from final
