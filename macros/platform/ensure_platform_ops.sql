{#- Ops tables of the platform rollups (created by `ensure_ops_schema` on every run).

    * ops.platform_rollup_queue - one row per (consumer, workspace, [lo, hi)) an hourly mart
      recomputed and a coarser rollup (daily / weekly) has not consumed yet. The hourly
      models insert (on conflict do nothing), the rollups delete what they consume in
      their own transaction - so a change committed while a rollup runs is never lost.
    * ops.retention_horizons - per relation, the instant before which retention cleanup
      has removed rows. Buckets before it are never recomputed (there is nothing left
      to recompute them from). -#}
{% macro ensure_platform_ops() %}
    create table if not exists ops.platform_rollup_queue (
        consumer text not null,
        workspace_id bigint not null,
        lo timestamptz not null,
        hi timestamptz not null,
        queued_at timestamptz not null default now(),
        primary key (consumer, workspace_id, lo, hi)
    );

    create table if not exists ops.retention_horizons (
        relation text primary key,
        horizon timestamptz not null,
        updated_at timestamptz not null default now()
    );
{% endmacro %}
