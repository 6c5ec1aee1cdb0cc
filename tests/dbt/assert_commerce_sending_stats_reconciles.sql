{#- agg_sending_stats_30d equals direct counts of raw emails in the 30 days before the
    rebuild (its updated_at), per account and category; emails_30d is the sum of the
    four category columns. Returns the accounts that differ. -#}
{{ config(tags=['commerce', 'reconcile'], meta={'dagster': {'ref': {'name': 'agg_sending_stats_30d'}}}) }}

with mart as (
    select * from {{ ref('agg_sending_stats_30d') }}
),

as_of as (
    select coalesce(max(mart.updated_at), now()) as ts from mart
),

expected as (
    select
        e.account_id,
        count(*) as emails_30d,
        count(*) filter (where e.category = 'automation') as automation_emails_30d,
        count(*) filter (where e.category = 'campaign') as campaign_emails_30d,
        count(*) filter (where e.category = 'transactional') as transactional_emails_30d
    from {{ source('raw_commerce', 'emails') }} as e
    cross join as_of
    where e.sent_at >= as_of.ts - interval '30 days'
        and e.sent_at <= as_of.ts
        and e.updated_at <= as_of.ts
        and e.account_id is not null
    group by e.account_id
)

select
    coalesce(expected.account_id, mart.account_id) as account_id,
    expected.emails_30d as expected_emails,
    mart.emails_30d as actual_emails
from expected
full outer join mart on expected.account_id = mart.account_id
where expected.emails_30d is distinct from mart.emails_30d
    or expected.automation_emails_30d is distinct from mart.automation_emails_30d
    or expected.campaign_emails_30d is distinct from mart.campaign_emails_30d
    or expected.transactional_emails_30d is distinct from mart.transactional_emails_30d
    or mart.emails_30d is distinct from mart.automation_emails_30d + mart.campaign_emails_30d
        + mart.transactional_emails_30d + mart.other_emails_30d
