{{- config(materialized='table', **tally.spark_mart_config()) -}}

{#- Seed 003's 30-day sending stats: per account, emails sent in the last 30 days,
    in total and per category. Rebuilt whole on every run (the seed's "simple and
    reliable" full rebuild): dbt's table materialization builds the new table beside
    the old one and swaps them by rename inside one transaction, so a reader sees the
    old table or the new one, never a missing or empty one (tests/test_commerce.py).
    Categories outside the known three are counted in `other_emails_30d` (and a
    warn-severity check names them) - nothing is dropped: emails_30d is the sum of the
    four category columns.

    On Spark (docs/scale-out.md) it is a parquet table, rebuilt whole by every run of
    the Spark marts (tally tick included); dbt-spark replaces a parquet table by drop
    and create, so a reader can find it missing for that moment. -#}

with emails as (
    select * from {{ ref('stg_commerce__emails') }}
),

recent as (
    select emails.*
    from emails
    where emails.sent_at >= now() - interval '30 days'
        and emails.sent_at <= now()
),

final as (
    select
        recent.account_id,
        count(*) as emails_30d,
        count(*) filter (where recent.category = 'automation') as automation_emails_30d,
        count(*) filter (where recent.category = 'campaign') as campaign_emails_30d,
        count(*) filter (where recent.category = 'transactional') as transactional_emails_30d,
        count(*) filter (where not recent.is_known_category) as other_emails_30d,
        now() as updated_at,
        {{ tally.lineage_columns() }}
    from recent
    where recent.account_id is not null
    group by recent.account_id
)

select * from final
