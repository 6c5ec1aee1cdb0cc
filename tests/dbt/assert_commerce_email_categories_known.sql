{#- Warning: emails of the last 30 days with a category outside automation, campaign,
    transactional. They are counted in agg_sending_stats_30d.other_emails_30d (nothing
    is dropped); this check names them so the source can be fixed. Attached to the mart
    (a Dagster asset check of every rebuild). -#}
{{ config(severity='warn', tags=['commerce'], meta={'dagster': {'ref': {'name': 'agg_sending_stats_30d'}}}) }}

select
    emails.category,
    count(*) as emails
from {{ ref('stg_commerce__emails') }} as emails
where not emails.is_known_category
    and emails.sent_at >= now() - interval '30 days'
    and exists (
        select 1 from {{ ref('agg_sending_stats_30d') }} as mart where mart.other_emails_30d > 0
    )
group by emails.category
