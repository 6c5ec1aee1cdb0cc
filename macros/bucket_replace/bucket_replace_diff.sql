{#- bucket_replace with a unique_key: only changed rows are written.

    One comparison of the affected buckets' target rows (one select per branch, each
    on an index: bucket_replace_branches) with the recomputed rows - a hash full join
    on the grain - into <model>__diff: the target rows that are gone or differ, the
    recomputed rows that are new or differ (values compared with `is distinct from`,
    every column but the grain and last_updated/run_id). Then delete those target rows
    and insert those recomputed rows (by the temp table's ctid): the ones replacing a
    deleted row directly, the new ones only where no target row of their grain exists
    (a recomputed row outside the affected buckets would be a bug; it is not written
    over a row it does not own). A bucket without a change keeps its rows (and their
    last_updated / run_id). The days of the diff's rows (gone, new or changed: a row's
    bucket, old or new) are recorded in ops.mart_days_written (bucket_replace_record_days). -#}
{% macro bucket_replace_diff(target, source, dest_cols, unique_key, branches) %}
    {{ return(adapter.dispatch('bucket_replace_diff', 'tally')(target, source, dest_cols, unique_key, branches)) }}
{% endmacro %}

{% macro default__bucket_replace_diff(target, source, dest_cols, unique_key, branches) %}
    {{ tally.not_implemented('bucket_replace_diff') }}
{% endmacro %}

{% macro postgres__bucket_replace_diff(target, source, dest_cols, unique_key, branches) %}
    {%- set cols_csv = dest_cols | join(', ') -%}
    {%- set values = dest_cols | reject('in', unique_key + ['last_updated', 'run_id']) | list -%}
    {%- set diff = this.identifier ~ '__diff' %}
    {%- set bucket = config.get('bucket_column', 'day_bucket') %}
    drop table if exists {{ diff }};
    create temporary table {{ diff }} on commit drop as
    with old as (
        {%- for branch in branches %}
        select true as present, {% for c in unique_key + values %}t.{{ c }}{{ ', ' if not loop.last }}{% endfor %}
        from {{ target }} as t
        inner join {{ tally.sliding_window_affected() }} as sw
            on {{ branch }}
        {{- '\n        union all' if not loop.last }}
        {%- endfor %}
    )
    select
        old.present, {% for c in unique_key %}old.{{ c }}, {% endfor %}s.ctid as source_row,
        coalesce(old.{{ bucket }}, s.{{ bucket }}) as written_bucket
    from old
    full join {{ source }} as s
        on {% for c in unique_key %}s.{{ c }} = old.{{ c }}{{ '\n        and ' if not loop.last }}{% endfor %}
    where old.present is null
        or s.ctid is null
        {%- if values %}
        or ({% for c in values %}s.{{ c }}{{ ', ' if not loop.last }}{% endfor %})
            is distinct from ({% for c in values %}old.{{ c }}{{ ', ' if not loop.last }}{% endfor %})
        {%- endif %};
    delete from {{ target }} as t
    using {{ diff }} as d
    where d.present
        {%- for c in unique_key %}
        and t.{{ c }} = d.{{ c }}
        {%- endfor %};
    -- the recomputed rows whose old row was just deleted
    insert into {{ target }} ({{ cols_csv }})
    select {{ cols_csv }} from {{ source }} as s
    where s.ctid = any(array(select d.source_row from {{ diff }} as d where d.source_row is not null and d.present));
    -- the new ones, not over an existing row of their grain (probing only these: the
    -- replaced rows' probes cost ~0.1 s of a late running-totals tick, on index pages
    -- the delete had just made not all-visible)
    insert into {{ target }} ({{ cols_csv }})
    select {{ cols_csv }} from {{ source }} as s
    where s.ctid = any(array(select d.source_row from {{ diff }} as d where d.source_row is not null and d.present is null))
        and not exists (
            select 1 from {{ target }} as t
            where {% for c in unique_key %}t.{{ c }} = s.{{ c }}{{ ' and ' if not loop.last }}{% endfor %}
        );
    {{ tally.bucket_replace_record_days('select d.written_bucket from ' ~ diff ~ ' as d') }}
{% endmacro %}
