{#-
    metric_snapshots (seed 001): running totals of the rank metric over week buckets, so
    a ranked report over many weeks reads two rows per entity and block instead of one
    per entity and week.

        marts_internal.metric_snapshots_rank_prefix
            (report_slug, block_start, bucket_start, dimension_value,
             score_before, score_through, buckets_before, buckets_through, run_id)

    Weeks are grouped in blocks of 13 ISO weeks (91 days) counted from Monday
    2001-01-01 (snapshot_rank_block). For every week bucket of a ranked report (a
    report_definitions line with rank_metric) and every entity seen in its block up to
    that week: score_through = the rank metric summed over the block's weeks up to and
    including this one, score_before = the same without this week; buckets_* count the
    week buckets holding the entity (an entity is in a range iff the difference is > 0).
    Weeks w1..w2 of one block sum to through(w2) - before(w1), for every entity at once.
    The reader (orchestration/reader/snapshots.py) knows the same block arithmetic.

    Maintained by metric_snapshots' post-hook in the same transaction as the snapshot
    rows: in every block holding a replaced week range, the rows from its first replaced
    week to the block's end are rewritten, computed from the block's week buckets (at
    most 13 weeks of snapshot rows, never raw); rows older than the week window's
    retention are dropped; a whole rebuild rebuilds every block.
-#}

{#- Start of the 13-week block holding instant `ts` (blocks start on Mondays). -#}
{% macro snapshot_rank_block(ts) -%}
    to_timestamp(978307200 + 7862400 * floor((extract(epoch from {{ ts }}) - 978307200) / 7862400))
{%- endmacro %}


{% macro snapshot_rank_prefix_refresh() %}
    {{ return(adapter.dispatch('snapshot_rank_prefix_refresh', 'tally')()) }}
{% endmacro %}

{% macro default__snapshot_rank_prefix_refresh() %}
    {{ tally.not_implemented('snapshot_rank_prefix_refresh') }}
{% endmacro %}

{% macro postgres__snapshot_rank_prefix_refresh() %}
    {%- set prefix = tally.internal_relation('metric_snapshots_rank_prefix') -%}
    create table if not exists {{ prefix }} (
        report_slug text not null,
        block_start timestamptz not null,
        bucket_start timestamptz not null,
        dimension_value text not null,
        score_before numeric(24, 4) not null,
        score_through numeric(24, 4) not null,
        buckets_before integer not null,
        buckets_through integer not null,
        run_id text not null,
        primary key (report_slug, bucket_start, dimension_value)
    );

    drop table if exists metric_snapshots__prefix_blocks;
    create temporary table metric_snapshots__prefix_blocks on commit drop as
    with ranked_reports as (
        select reports.slug as report_slug, reports.rank_metric
        from {{ ref('report_definitions') }} as reports
        where coalesce(reports.rank_metric, '') <> ''
    ),

    week_ranges as (
        select
            ranges.report_slug,
            ranges.lo,
            least(
                ranges.hi,
                coalesce(
                    (select max(t.bucket_start) from {{ this }} as t
                     where t.report_slug = ranges.report_slug and t.window_name = 'week') + interval '1 second',
                    ranges.lo
                )
            ) as hi
        from metric_snapshots__ranges as ranges
        where ranges.window_name = 'week'
    )

    -- per block: the first replaced week (rows before it keep their running totals)
    select
        ranked_reports.report_slug,
        ranked_reports.rank_metric,
        block.block_start,
        min(greatest(block.block_start, week_ranges.lo)) as from_bucket
    from week_ranges
    inner join ranked_reports on week_ranges.report_slug = ranked_reports.report_slug
    cross join lateral generate_series(
        {{ tally.snapshot_rank_block('week_ranges.lo') }},
        week_ranges.hi - interval '1 microsecond',
        interval '7862400 seconds'
    ) as block (block_start)
    where week_ranges.hi > week_ranges.lo
    group by ranked_reports.report_slug, ranked_reports.rank_metric, block.block_start;
    analyze metric_snapshots__prefix_blocks;

    delete from {{ prefix }}
    where (select run.whole from metric_snapshots__run as run);

    delete from {{ prefix }} as p
    using metric_snapshots__prefix_blocks as blocks
    where p.report_slug = blocks.report_slug
        and p.bucket_start >= blocks.from_bucket
        and p.bucket_start < blocks.block_start + interval '7862400 seconds';

    delete from {{ prefix }} as p
    where p.bucket_start < (
        select {{ tally.snapshot_cutoff('windows.window_name', 'windows.retention_days') }}
        from {{ ref('aggregate_windows') }} as windows
        where windows.window_name = 'week'
    );

    insert into {{ prefix }} (
        report_slug, block_start, bucket_start, dimension_value,
        score_before, score_through, buckets_before, buckets_through, run_id
    )
    with week_values as (
        -- the block's week buckets (one index range scan per block)
        select
            blocks.report_slug,
            blocks.block_start,
            t.bucket_start,
            t.dimension_value,
            t.metric_value
        from metric_snapshots__prefix_blocks as blocks
        cross join lateral (
            select m.bucket_start, m.dimension_value, m.metric_value
            from {{ this }} as m
            where m.report_slug = blocks.report_slug
                and m.window_name = 'week'
                and m.metric_name = blocks.rank_metric
                and m.bucket_start >= blocks.block_start
                and m.bucket_start < blocks.block_start + interval '7862400 seconds'
        ) as t
    ),

    weeks as (
        select distinct week_values.report_slug, week_values.block_start, week_values.bucket_start
        from week_values
    ),

    firsts as (
        select
            week_values.report_slug,
            week_values.block_start,
            week_values.dimension_value,
            min(week_values.bucket_start) as first_bucket
        from week_values
        group by week_values.report_slug, week_values.block_start, week_values.dimension_value
    ),

    grid as (
        -- every week of the block x every entity seen in the block by then (value 0),
        -- plus the entity's own value rows: summed per week below (no join on estimates)
        select
            weeks.report_slug,
            weeks.block_start,
            weeks.bucket_start,
            firsts.dimension_value,
            cast(0 as numeric) as value,
            0 as present
        from weeks
        inner join firsts
            on weeks.report_slug = firsts.report_slug
            and weeks.block_start = firsts.block_start
            and firsts.first_bucket <= weeks.bucket_start
        union all
        select
            week_values.report_slug,
            week_values.block_start,
            week_values.bucket_start,
            week_values.dimension_value,
            week_values.metric_value,
            1
        from week_values
    ),

    per_week as (
        select
            grid.report_slug,
            grid.block_start,
            grid.bucket_start,
            grid.dimension_value,
            sum(grid.value) as value,
            sum(grid.present) as present
        from grid
        group by grid.report_slug, grid.block_start, grid.bucket_start, grid.dimension_value
    ),

    running as (
        select
            per_week.*,
            sum(per_week.value) over blocks_so_far as score_through,
            sum(per_week.present) over blocks_so_far as buckets_through
        from per_week
        window blocks_so_far as (
            partition by per_week.report_slug, per_week.block_start, per_week.dimension_value
            order by per_week.bucket_start
            rows between unbounded preceding and current row
        )
    )

    select
        running.report_slug,
        running.block_start,
        running.bucket_start,
        running.dimension_value,
        running.score_through - running.value as score_before,
        running.score_through,
        cast(running.buckets_through - running.present as integer) as buckets_before,
        cast(running.buckets_through as integer) as buckets_through,
        '{{ invocation_id }}' as run_id
    from running
    inner join metric_snapshots__prefix_blocks as blocks
        on running.report_slug = blocks.report_slug
        and running.block_start = blocks.block_start
    where running.bucket_start >= blocks.from_bucket
    order by running.report_slug, running.bucket_start, running.dimension_value
{% endmacro %}


{#- Weeks verified equal to the sum of their day buckets, so a day-window ranking may read
    the week bucket instead of seven day buckets although they were written by different
    runs (a one-day recompute rewrites the day and its week, not the other six days).

        marts_internal.metric_snapshots_week_check (report_slug, bucket_start, run_id)
            a row iff, for every dimension value and metric, the week bucket (written by
            run_id) equals the sum of the day buckets of its seven days.

    Same transaction as the snapshot rows: every run re-verifies the weeks of ranked
    reports that overlap a replaced day or week range (a whole rebuild: all weeks) and
    drops the rows of weeks starting before the day window's retention cutoff (their first
    days are pruned). -#}
{% macro snapshot_week_check_refresh() %}
    {{ return(adapter.dispatch('snapshot_week_check_refresh', 'tally')()) }}
{% endmacro %}

{% macro default__snapshot_week_check_refresh() %}
    {{ tally.not_implemented('snapshot_week_check_refresh') }}
{% endmacro %}

{% macro postgres__snapshot_week_check_refresh() %}
    {%- set checks = tally.internal_relation('metric_snapshots_week_check') -%}
    create table if not exists {{ checks }} (
        report_slug text not null,
        bucket_start timestamptz not null,
        run_id text not null,
        primary key (report_slug, bucket_start)
    );

    drop table if exists metric_snapshots__check_weeks;
    create temporary table metric_snapshots__check_weeks on commit drop as
    with ranked_reports as (
        select reports.slug as report_slug
        from {{ ref('report_definitions') }} as reports
        where coalesce(reports.rank_metric, '') <> ''
    ),

    day_cutoff as (
        select {{ tally.snapshot_cutoff('windows.window_name', 'windows.retention_days') }} as cutoff
        from {{ ref('aggregate_windows') }} as windows
        where windows.window_name = 'day'
    ),

    replaced as (
        select
            ranges.report_slug,
            greatest(ranges.lo, (select day_cutoff.cutoff from day_cutoff)) as lo,
            least(
                ranges.hi,
                coalesce(
                    (select max(t.bucket_start) from {{ this }} as t
                     where t.report_slug = ranges.report_slug and t.window_name = 'week') + interval '168 hours',
                    ranges.lo
                )
            ) as hi
        from metric_snapshots__ranges as ranges
        inner join ranked_reports on ranges.report_slug = ranked_reports.report_slug
        where ranges.window_name in ('day', 'week')
    )

    select distinct replaced.report_slug, week.bucket_start
    from replaced
    cross join lateral generate_series(
        date_trunc('week', replaced.lo, 'UTC'),
        replaced.hi - interval '1 microsecond',
        interval '168 hours'
    ) as week (bucket_start)
    where replaced.hi > replaced.lo
        and week.bucket_start >= (select day_cutoff.cutoff from day_cutoff);
    analyze metric_snapshots__check_weeks;

    delete from {{ checks }} as c
    where (select run.whole from metric_snapshots__run as run)
        or exists (
            select 1 from metric_snapshots__check_weeks as w
            where w.report_slug = c.report_slug and w.bucket_start = c.bucket_start
        )
        or c.bucket_start < (
            select {{ tally.snapshot_cutoff('windows.window_name', 'windows.retention_days') }}
            from {{ ref('aggregate_windows') }} as windows
            where windows.window_name = 'day'
        );

    insert into {{ checks }} (report_slug, bucket_start, run_id)
    select w.report_slug, w.bucket_start, week_run.run_id
    from metric_snapshots__check_weeks as w
    cross join lateral (
        select t.run_id from {{ this }} as t
        where t.report_slug = w.report_slug and t.window_name = 'week' and t.bucket_start = w.bucket_start
        limit 1
    ) as week_run
    where not exists (
        select 1
        from (
            select t.dimension_value, t.metric_name, t.metric_value as value
            from {{ this }} as t
            where t.report_slug = w.report_slug
                and t.window_name = 'week'
                and t.bucket_start = w.bucket_start
            union all
            select t.dimension_value, t.metric_name, -t.metric_value
            from {{ this }} as t
            where t.report_slug = w.report_slug
                and t.window_name = 'day'
                and t.bucket_start >= w.bucket_start
                and t.bucket_start < w.bucket_start + interval '168 hours'
        ) as both_windows
        group by both_windows.dimension_value, both_windows.metric_name
        having sum(both_windows.value) <> 0
    )
{% endmacro %}
