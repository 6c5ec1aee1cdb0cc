{#- Unfiltered on purpose: the sliding window sees changes through updated_at. -#}
with recipients as (
    select * from {{ source('raw_orders', 'campaign_recipients') }}
),

final as (
    select
        recipients.id as campaign_recipient_id,
        recipients.organization_id,
        recipients.campaign_id,
        recipients.recipient_id,
        recipients.is_holdout,
        recipients.sent_at,
        recipients.updated_at
    from recipients
)

select * from final
