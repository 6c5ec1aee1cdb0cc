{#- Upstream providers of analytics events. -#}
with sources as (
    select * from {{ source('raw_snapshots', 'event_sources') }}
),

final as (
    select
        sources.id as source_id,
        sources.slug as source_slug,
        sources.provider_name,
        sources.description,
        sources.is_active,
        sources.updated_at
    from sources
)

select * from final
