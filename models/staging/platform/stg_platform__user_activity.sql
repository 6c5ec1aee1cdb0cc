{#- Every raw activity event, unfiltered (the sliding window reads `updated_at` of all rows). -#}
with source as (
    select * from {{ source('raw_platform', 'user_activity') }}
),

final as (
    select
        source.id as activity_id,
        source.workspace_id,
        source.user_id,
        source.activity_type,
        source.occurred_at,
        source.updated_at
    from source
)

select * from final
