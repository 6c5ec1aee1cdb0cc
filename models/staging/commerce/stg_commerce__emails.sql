with source as (
    select * from {{ source('raw_commerce', 'emails') }}
),

renamed as (
    select
        source.id as email_id,
        source.account_id,
        source.category,
        source.sent_at,
        source.updated_at,
        -- the known categories of seed 003; anything else is counted as `other`
        coalesce(source.category in ('automation', 'campaign', 'transactional'), false)
            as is_known_category
    from source
)

select * from renamed
