{#- The sliding window's "tenants" for metric_snapshots: one row per event source.

    Snapshots are not tenant or timezone based (UTC date_trunc buckets), so every
    source gets timezone 'UTC' and the window's affected (source, UTC day) set is
    unioned across sources by the snapshot model (see macros/snapshots/). The version
    is the source slug (the volume-by-period dimension value) plus a hash of the
    report catalog and windows: renaming a source or changing the catalog rebuilds
    every snapshot on the next tick.
-#}
with sources as (
    select * from {{ ref('stg_snapshots__event_sources') }}
),

reports as (
    select * from {{ ref('report_definitions') }}
),

windows as (
    select * from {{ ref('aggregate_windows') }}
),

catalog as (
    select md5(
        coalesce((
            select string_agg(
                concat_ws('|', reports.slug, reports.dimension_key, reports.metrics), ';'
                order by reports.slug
            )
            from reports
        ), '')
        || '#'
        || coalesce((
            select string_agg(
                concat_ws('|', windows.window_name, windows.retention_days), ';'
                order by windows.window_name
            )
            from windows
        ), '')
    ) as catalog_hash
),

final as (
    select
        sources.source_id,
        sources.source_slug,
        cast('UTC' as text) as timezone,
        sources.source_slug || '@' || catalog.catalog_hash as catalog_version
    from sources
    cross join catalog
)

select * from final
