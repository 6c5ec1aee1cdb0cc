{#- One row per workspace: the tenant of the platform rollups. Platform buckets are UTC
    (seed 004), so every workspace reports in 'UTC'; the version is constant. -#}
with source as (
    select * from {{ source('raw_platform', 'workspaces') }}
),

final as (
    select
        source.id as workspace_id,
        source.name as workspace_name,
        cast('UTC' as text) as timezone,
        cast('utc-v1' as text) as config_version,
        source.updated_at
    from source
)

select * from final
