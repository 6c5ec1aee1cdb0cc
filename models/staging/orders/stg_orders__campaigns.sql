with campaigns as (
    select * from {{ source('raw_orders', 'campaigns') }}
),

final as (
    select
        campaigns.id as campaign_id,
        campaigns.organization_id,
        campaigns.name as campaign_name,
        campaigns.created_at,
        campaigns.updated_at
    from campaigns
)

select * from final
