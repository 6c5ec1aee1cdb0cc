{#- Fails with one row per (organization, campaign, arm) of agg_campaign_recipient_totals
    whose converted recipients are no share of its recipients (more converted than
    recipients, or a negative count): converted recipients are recipient rows of the
    arm as sent with a qualifying order (docs/orders.md), so such a row is a defect of
    the mart or of raw; the campaign report gives that campaign no statistic
    (verdict invalid_data). Failing rows are stored in
    ops.assert_orders_converted_within_recipients. A Dagster check of the mart
    (issue 16 F2). -#}
{{ config(severity='error', store_failures=true, meta={'dagster': {'ref': {'name': 'agg_campaign_recipient_totals'}}}) }}

select
    t.organization_id,
    t.campaign_id,
    case when t.is_holdout then 'holdout' else 'treatment' end as arm,
    t.recipients,
    t.converted_recipients,
    'organization ' || t.organization_id || ', campaign ' || t.campaign_id || ', '
        || case when t.is_holdout then 'holdout' else 'treatment' end || ' arm: '
        || t.converted_recipients || ' converted recipients of ' || t.recipients || ' recipients' as problem
from {{ ref('agg_campaign_recipient_totals') }} as t
where t.converted_recipients > t.recipients
    or t.converted_recipients < 0
    or t.recipients < 0
