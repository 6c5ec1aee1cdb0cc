{#- The attributions that count (seed 000): passes_rules, not archived, positive value,
    attribution type not excluded by the organization, organization with a valid
    configuration, and every required column set (campaign, time, arm, type - issue 16
    F4: NULL there excludes the row; assert_orders_raw_rules counts them). Carries the
    local day bucket in the organization's timezone.
    A view: marts filter it on (organization_id, ordered_at), which PostgreSQL pushes
    down to the raw index. -#}
with attributions as (
    select * from {{ ref('stg_orders__attributions') }}
),

organizations as (
    select * from {{ ref('int_orders__organizations_validated') }}
),

final as (
    select
        attributions.attribution_id,
        attributions.organization_id,
        attributions.campaign_id,
        attributions.recipient_id,
        attributions.customer_id,
        attributions.is_holdout,
        attributions.ordered_at,
        {{ tally.day_bucket('attributions.ordered_at', 'organizations.aggregation_timezone') }} as day_bucket,
        attributions.order_value,
        attributions.attribution_type,
        coalesce(attributions.is_first_purchase, false) as is_first_purchase,
        coalesce(attributions.is_subscription, false) as is_subscription,
        coalesce(attributions.is_discount_matched, false) as is_discount_matched,
        coalesce(attributions.is_new_subscriber, false) as is_new_subscriber
    from attributions
    inner join organizations
        on attributions.organization_id = organizations.organization_id
    where organizations.aggregation_timezone is not null
        and attributions.passes_rules
        and not attributions.is_archived
        and attributions.order_value > 0
        and attributions.campaign_id is not null
        and attributions.ordered_at is not null
        -- declared not null (models/staging/orders/_orders__sources.yml): a row without
        -- them is left out and counted by assert_orders_raw_rules, never guessed
        and attributions.is_holdout is not null
        and attributions.attribution_type is not null
        and not coalesce({{ tally.json_text_set_contains('organizations.exclusion_set', 'attributions.attribution_type') }}, false)
)

select * from final
