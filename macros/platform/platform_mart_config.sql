{#- The config every incremental platform mart shares: bucket_replace on UTC instants
    (`bucket_start`) per workspace, sliding-window spec over stg_platform__workspaces,
    never a --full-refresh. `events`: the spec's event models ([] for rollups of an
    hourly mart); `tags`, `pre_hook`, `post_hook` as in config(). -#}
{% macro platform_mart_config(unique_key, events, tags, pre_hook, post_hook) %}
{{
    config(
        materialized='incremental',
        incremental_strategy='bucket_replace',
        unique_key=unique_key,
        bucket_column='bucket_start',
        bucket_kind='instant',
        full_refresh=false,
        on_schema_change='append_new_columns',
        sliding_window={
            'tenants': 'stg_platform__workspaces',
            'tenant_id': 'workspace_id',
            'timezone': 'timezone',
            'version': 'config_version',
            'events': events,
            'rebuild_var': 'rebuild_workspace_id',
        },
        tags=tags,
        pre_hook=pre_hook,
        post_hook=post_hook,
    )
}}
{% endmacro %}
