{#- Every raw execution, unfiltered (the sliding window reads `updated_at` of all rows).
    Unknown statuses map to 'other'; rows with a negative duration or credit amount,
    or no start time, are flagged `is_valid = false` and left out of every rollup
    (a failing check lists them). -#}
with source as (
    select * from {{ source('raw_platform', 'executions') }}
),

final as (
    select
        source.id as execution_id,
        source.workspace_id,
        source.user_id,
        source.status as raw_status,
        case
            when source.status in ('succeeded', 'failed', 'cancelled') then source.status
            else 'other'
        end as status,
        source.started_at,
        source.duration_ms,
        source.credits_used,
        (
            source.started_at is not null
            and coalesce(source.duration_ms, 0) >= 0
            and coalesce(source.credits_used, 0) >= 0
        ) as is_valid,
        source.updated_at
    from source
)

select * from final
