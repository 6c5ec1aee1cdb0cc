{#- Warning: emails of the last 30 days with a category outside automation, campaign,
    transactional. They are counted in agg_sending_stats_30d.other_emails_30d (nothing
    is dropped); this check names them so the source can be fixed. -#}
{{ config(severity='warn', tags=['commerce']) }}

select
    emails.category,
    count(*) as emails
from {{ ref('stg_commerce__emails') }} as emails
where not emails.is_known_category
    and emails.sent_at >= now() - interval '30 days'
group by emails.category
