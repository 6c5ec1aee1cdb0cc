{#-
    metric_snapshots (seed 001): which buckets a run replaces, and what it did.

    The shared sliding window (tenants = event sources, timezone 'UTC', see
    int_snapshots__sources_versioned) yields the affected (source, UTC day) set for
    every mode: tick (recent days + days holding changed/deleted rows), backfill
    (vars window_start..window_end = a recompute's date range), full (first build).
    `snapshot_ranges_prepare` turns it into the buckets to replace:

        metric_snapshots__ranges (report_slug, window_name, lo, hi)
            one row per report x window x bucket holding an affected day
            (weeks widened to the whole ISO week), clipped to the window's retention;
            narrowed by vars snapshot_reports / snapshot_windows (lists; null = all).
        metric_snapshots__spans (lo, hi)
            the same instants merged into disjoint intervals: the raw rows to read.
        metric_snapshots__before (report_slug, window_name, n)
            rows the bucket_replace delete is about to remove (for the run summary).

    bucket_replace deletes `lo <= bucket_start < hi` per (report_slug, window_name)
    through its `affected_relation` config, then inserts the model's rows.
-#}

{#- The sliding_window spec of metric_snapshots. -#}
{% macro snapshots_sliding_window() %}
    {{ return({
        'tenants': 'int_snapshots__sources_versioned',
        'tenant_id': 'source_id',
        'timezone': 'timezone',
        'version': 'tn.catalog_version',
        'events': [{'model': 'stg_snapshots__analytics_events', 'tenant': 'source_id',
                    'ts': 'occurred_at', 'raw_table': 'analytics_events'}],
        'rebuild_var': 'rebuild_source_id',
    }) }}
{% endmacro %}


{#- dimension_key -> column of the events CTE. A report on a new dimension adds a line here. -#}
{% macro snapshot_dimensions() %}
    {{ return({'source': 'source_slug', 'status': 'status', 'entity_id': 'entity_id'}) }}
{% endmacro %}


{#- The metrics every snapshot row may carry: name -> aggregate over the events CTE. -#}
{% macro snapshot_metrics() %}
    {{ return({
        'events': 'count(*)',
        'amount_cents': 'coalesce(sum(amount_cents), 0)',
        'processing_ms_sum': 'coalesce(sum(processing_ms), 0)',
    }) }}
{% endmacro %}


{#- A var holding a list (json list or comma-separated string) as quoted SQL literals. -#}
{% macro _snapshot_list_var(name) %}
    {%- set value = tally.run_var(name, none) -%}
    {%- if value is none or value == '' or value == [] -%}{{ return(none) }}{%- endif -%}
    {%- if value is string -%}{%- set value = value.split(',') -%}{%- endif -%}
    {%- set quoted = [] -%}
    {%- for v in value -%}
        {%- do quoted.append("'" ~ (v | string | trim | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {{ return(quoted | join(', ')) }}
{% endmacro %}


{#- Start of the oldest bucket a window keeps (retention). -#}
{% macro snapshot_cutoff(window_name, retention_days) %}
    {{ return(adapter.dispatch('snapshot_cutoff', 'tally')(window_name, retention_days)) }}
{% endmacro %}

{% macro default__snapshot_cutoff(window_name, retention_days) %}
    {{ tally.not_implemented('snapshot_cutoff') }}
{% endmacro %}

{% macro postgres__snapshot_cutoff(window_name, retention_days) -%}
    (date_trunc({{ window_name }}, (now() at time zone 'UTC') - {{ retention_days }} * interval '1 day') at time zone 'UTC')
{%- endmacro %}


{% macro snapshot_ranges_prepare() %}
    {{ return(adapter.dispatch('snapshot_ranges_prepare', 'tally')()) }}
{% endmacro %}

{% macro default__snapshot_ranges_prepare() %}
    {{ tally.not_implemented('snapshot_ranges_prepare') }}
{% endmacro %}

{% macro postgres__snapshot_ranges_prepare() %}
    {%- set reports = tally._snapshot_list_var('snapshot_reports') -%}
    {%- set windows = tally._snapshot_list_var('snapshot_windows') -%}
    {%- set incremental = is_incremental() -%}
    drop table if exists metric_snapshots__run;
    create temporary table metric_snapshots__run on commit drop as
    select cast('{{ tally.sliding_window_mode() }}' as text) as mode;

    drop table if exists metric_snapshots__ranges;
    create temporary table metric_snapshots__ranges on commit drop as
    with scope as (
        select
            reports.slug as report_slug,
            windows.window_name,
            {{ tally.snapshot_cutoff('windows.window_name', 'windows.retention_days') }} as cutoff
        from {{ ref('report_definitions') }} as reports
        cross join {{ ref('aggregate_windows') }} as windows
        {%- if incremental %}
        where true
            {%- if reports is not none %}
            and reports.slug in ({{ reports }})
            {%- endif %}
            {%- if windows is not none %}
            and windows.window_name in ({{ windows }})
            {%- endif %}
        {%- endif %}
    ),

    {%- if incremental %}
    affected as (
        select * from {{ tally.sliding_window_affected() }}
    ),

    is_whole as (
        select exists (select 1 from affected where affected.kind = 'tenant') as whole
    ),

    days as (
        select distinct affected.day_bucket
        from affected
        where affected.kind = 'day'
    ),
    {%- else %}
    -- first build / --full-refresh: everything within retention
    is_whole as (
        select true as whole
    ),

    days as (
        select cast(null as date) as day_bucket where false
    ),
    {%- endif %}

    buckets as (
        select scope.report_slug, scope.window_name, scope.cutoff as lo, cast('infinity' as timestamptz) as hi
        from scope
        where (select is_whole.whole from is_whole)
        union
        select
            scope.report_slug,
            scope.window_name,
            date_trunc(scope.window_name, cast(days.day_bucket as timestamp)) at time zone 'UTC' as lo,
            (date_trunc(scope.window_name, cast(days.day_bucket as timestamp)) + cast('1 ' || scope.window_name as interval))
                at time zone 'UTC' as hi
        from scope
        cross join days
        where not (select is_whole.whole from is_whole)
    ),

    final as (
        select
            buckets.report_slug,
            buckets.window_name,
            greatest(buckets.lo, scope.cutoff) as lo,
            buckets.hi
        from buckets
        inner join scope
            on buckets.report_slug = scope.report_slug
            and buckets.window_name = scope.window_name
        where buckets.hi > scope.cutoff
    )

    select * from final;
    analyze metric_snapshots__ranges;
    alter table metric_snapshots__run add column whole boolean;
    update metric_snapshots__run set whole = exists (
        select 1 from metric_snapshots__ranges as ranges where ranges.hi = 'infinity'
    );

    drop table if exists metric_snapshots__spans;
    create temporary table metric_snapshots__spans on commit drop as
    with intervals as (
        select distinct ranges.lo, ranges.hi from metric_snapshots__ranges as ranges
    ),

    ordered as (
        select
            intervals.lo,
            intervals.hi,
            max(intervals.hi) over (
                order by intervals.lo, intervals.hi rows between unbounded preceding and 1 preceding
            ) as previous_hi
        from intervals
    ),

    grouped as (
        select
            ordered.lo,
            ordered.hi,
            sum(case when ordered.previous_hi >= ordered.lo then 0 else 1 end)
                over (order by ordered.lo, ordered.hi) as island
        from ordered
    )

    select min(grouped.lo) as lo, max(grouped.hi) as hi
    from grouped
    group by grouped.island;
    analyze metric_snapshots__spans;

    drop table if exists metric_snapshots__before;
    create temporary table metric_snapshots__before on commit drop as
    {%- if incremental %}
    select t.report_slug, t.window_name, count(*) as n
    from {{ this }} as t
    inner join metric_snapshots__ranges as ranges
        on t.report_slug = ranges.report_slug
        and t.window_name = ranges.window_name
        and t.bucket_start >= ranges.lo
        and t.bucket_start < ranges.hi
    group by t.report_slug, t.window_name
    {%- else %}
    select cast(null as text) as report_slug, cast(null as text) as window_name, cast(0 as bigint) as n
    where false
    {%- endif %}
{% endmacro %}


{#- After the insert: prune buckets past retention and reports/windows gone from the
    catalog, then write the run summary - onto the recompute run (var recompute_run_id,
    which must still be `running`, else the whole run rolls back) or, for a
    tick/backfill/full build, as a completed run of its own - plus an audit entry.
    Same transaction as the data: the summary exists iff the rows do. -#}
{% macro snapshot_ranges_record() %}
    {{ return(adapter.dispatch('snapshot_ranges_record', 'tally')()) }}
{% endmacro %}

{% macro default__snapshot_ranges_record() %}
    {{ tally.not_implemented('snapshot_ranges_record') }}
{% endmacro %}

{% macro postgres__snapshot_ranges_record() %}
    {%- set run_id = tally.run_var('recompute_run_id', none) -%}
    drop table if exists metric_snapshots__summary;
    create temporary table metric_snapshots__summary on commit drop as
    with inserted as (
        select ranges.report_slug, ranges.window_name, count(*) as n
        from {{ this }} as t
        inner join metric_snapshots__ranges as ranges
            on t.report_slug = ranges.report_slug
            and t.window_name = ranges.window_name
            and t.bucket_start >= ranges.lo
            and t.bucket_start < ranges.hi
        group by ranges.report_slug, ranges.window_name
    ),

    retention as (
        select
            reports.slug as report_slug,
            windows.window_name,
            {{ tally.snapshot_cutoff('windows.window_name', 'windows.retention_days') }} as cutoff
        from {{ ref('report_definitions') }} as reports
        cross join {{ ref('aggregate_windows') }} as windows
    ),

    expired_rows as (
        -- index range scans: (report_slug, window_name, bucket_start < cutoff)
        delete from {{ this }} as t
        using retention
        where t.report_slug = retention.report_slug
            and t.window_name = retention.window_name
            and t.bucket_start < retention.cutoff
        returning t.report_slug, t.window_name
    ),

    orphan_rows as (
        -- reports/windows gone from the catalog: only on whole rebuilds (a catalog
        -- change bumps every source's version, so the next tick is one)
        delete from {{ this }} as t
        where (select run.whole from metric_snapshots__run as run)
            and not exists (
                select 1 from retention
                where retention.report_slug = t.report_slug and retention.window_name = t.window_name
            )
        returning t.report_slug, t.window_name
    ),

    pruned_rows as (
        select expired_rows.report_slug, expired_rows.window_name from expired_rows
        union all
        select orphan_rows.report_slug, orphan_rows.window_name from orphan_rows
    ),

    pruned as (
        select pruned_rows.report_slug, pruned_rows.window_name, count(*) as n
        from pruned_rows
        group by pruned_rows.report_slug, pruned_rows.window_name
    ),

    keys as (
        select distinct ranges.report_slug, ranges.window_name from metric_snapshots__ranges as ranges
        union
        select pruned.report_slug, pruned.window_name from pruned
    ),

    final as (
        select
            keys.report_slug,
            keys.window_name,
            coalesce(before.n, 0) as deleted,
            coalesce(inserted.n, 0) as inserted,
            coalesce(pruned.n, 0) as pruned,
            (select count(*) from metric_snapshots__ranges as ranges
             where ranges.report_slug = keys.report_slug and ranges.window_name = keys.window_name) as buckets
        from keys
        left join metric_snapshots__before as before
            on keys.report_slug = before.report_slug and keys.window_name = before.window_name
        left join inserted
            on keys.report_slug = inserted.report_slug and keys.window_name = inserted.window_name
        left join pruned
            on keys.report_slug = pruned.report_slug and keys.window_name = pruned.window_name
    )

    select * from final;

    drop table if exists metric_snapshots__summary_json;
    create temporary table metric_snapshots__summary_json on commit drop as
    select
        jsonb_build_object(
            'mode', (select run.mode from metric_snapshots__run as run),
            'dbt_invocation_id', '{{ invocation_id }}',
            'buckets', coalesce(sum(summary.buckets), 0),
            'rows_deleted', coalesce(sum(summary.deleted), 0),
            'rows_inserted', coalesce(sum(summary.inserted), 0),
            'rows_pruned', coalesce(sum(summary.pruned), 0),
            'per_report', coalesce((
                select jsonb_object_agg(by_report.report_slug, by_report.windows)
                from (
                    select
                        s.report_slug,
                        jsonb_object_agg(
                            s.window_name,
                            jsonb_build_object(
                                'buckets', s.buckets, 'deleted', s.deleted,
                                'inserted', s.inserted, 'pruned', s.pruned
                            )
                        ) as windows
                    from metric_snapshots__summary as s
                    group by s.report_slug
                ) as by_report
            ), '{}'::jsonb)
        ) as summary,
        coalesce(
            (select cast(min(ranges.lo) at time zone 'UTC' as date) from metric_snapshots__ranges as ranges),
            cast(now() at time zone 'UTC' as date)
        ) as date_from,
        coalesce(
            (select cast((max(ranges.hi) at time zone 'UTC') - interval '1 day' as date)
             from metric_snapshots__ranges as ranges where ranges.hi < 'infinity'),
            cast(now() at time zone 'UTC' as date)
        ) as date_to
    from metric_snapshots__summary as summary;

    {%- if run_id is not none %}
    do $guard$
    begin
        if not exists (
            select 1 from ops.recompute_runs where id = {{ run_id | int }} and status = 'running'
        ) then
            raise exception 'recompute run {{ run_id | int }} is not running any more; its snapshot changes are rolled back';
        end if;
    end
    $guard$;

    update ops.recompute_runs as runs
    set summary = sj.summary, dbt_invocation_id = '{{ invocation_id }}'
    from metric_snapshots__summary_json as sj
    where runs.id = {{ run_id | int }}
    {%- else %}
    with run as (
        insert into ops.recompute_runs (
            status, date_from, date_to, reports, windows, requested_by,
            summary, dbt_invocation_id, created_at, started_at, finished_at
        )
        select
            'completed',
            least(sj.date_from, sj.date_to),
            sj.date_to,
            coalesce((select array_agg(distinct s.report_slug order by s.report_slug) from metric_snapshots__summary as s), '{}'),
            coalesce((select array_agg(distinct s.window_name order by s.window_name) from metric_snapshots__summary as s), '{}'),
            'dbt:' || (select run.mode from metric_snapshots__run as run),
            sj.summary,
            '{{ invocation_id }}',
            now(),
            now(),
            clock_timestamp()
        from metric_snapshots__summary_json as sj
        returning id, summary
    )

    insert into ops.audit_entries (actor, action, resource_type, resource_id, metadata)
    select 'dbt', 'recompute_run.completed', 'recompute_run', cast(run.id as text), run.summary
    from run
    {%- endif %}
{%- endmacro %}
