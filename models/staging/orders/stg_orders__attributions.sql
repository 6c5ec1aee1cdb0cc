{#- Unfiltered on purpose (rename/cast only): the sliding window must see archive and
    rule flips through updated_at; the qualifying filter lives in
    int_orders__attributions_qualified. -#}
with attributions as (
    select * from {{ source('raw_orders', 'attributions') }}
),

final as (
    select
        attributions.id as attribution_id,
        attributions.organization_id,
        attributions.campaign_id,
        attributions.recipient_id,
        attributions.customer_id,
        attributions.order_id,
        attributions.order_value,
        attributions.attribution_type,
        attributions.is_holdout,
        attributions.is_first_purchase,
        attributions.is_subscription,
        attributions.discount_matched as is_discount_matched,
        attributions.is_new_subscriber,
        attributions.passes_rules,
        attributions.archived as is_archived,
        attributions.ordered_at,
        attributions.created_at,
        attributions.updated_at
    from attributions
)

select * from final
