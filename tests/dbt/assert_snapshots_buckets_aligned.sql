{#- Day buckets start at UTC midnight, week buckets at UTC midnight on a Monday (ISO). -#}
{{ config(meta={'dagster': {'ref': {'name': 'metric_snapshots'}}}) }}
select report_slug, window_name, bucket_start
from {{ ref('metric_snapshots') }}
where (bucket_start at time zone 'UTC') <> date_trunc('day', bucket_start at time zone 'UTC')
    or (window_name = 'week' and extract(isodow from bucket_start at time zone 'UTC') <> 1)
