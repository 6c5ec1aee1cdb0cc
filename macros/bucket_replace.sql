{#-
    Custom incremental strategy `bucket_replace` (dbt's get_incremental_<name>_sql hook).

    Replaces whole buckets: every target row in the affected set (the temporary table
    built by `sliding_window_prepare`) is deleted, then the recomputed rows are inserted,
    in the model's single transaction. A bucket whose raw rows all disappeared (archived,
    failed rules, deleted, excluded type) therefore disappears too - dbt's merge and
    microbatch strategies leave such rows behind.

    Config: unique_key (the grain), bucket_column, bucket_kind ('day' compares
    `bucket_column = day_bucket` - with `bucket_suffix: true` `>=`: the affected day and
    every later one, for marts that accumulate over days; with `bucket_suffix: N` the
    affected day and the later days of its N-day block (tally.day_block_start), for marts
    whose running totals restart at every block - and with a sliding-window `bucket_key` also the key
    for the affected set's (tenant, key, day) rows; 'instant' keeps `lo <= bucket_column < hi`;
    'key' compares `bucket_column = key_value` for key-mode sliding windows),
    and the sliding_window spec (tenant column, rebuild scope).
    Optional `affected_relation={'relation': <temp table>, 'match': [cols]}`: delete
    `lo <= bucket_column < hi` per row of that table, matching the listed columns
    (metric_snapshots: per report and window, weeks widened - see macros/snapshots/).

    Only rows whose values change are written: a target row of an affected bucket is
    deleted unless the recomputed set holds the same row (same grain, same measures),
    and a recomputed row is inserted unless that row is still there. A tick that
    recomputes the window without finding a change writes nothing, and a row's
    `last_updated`/`run_id` say when and by which run its current values were written.

    Admin rebuild with `full_refresh_sweep: true` is mark-and-sweep instead (seed 000):
    upsert every recomputed row (refreshing last_updated), then delete the rows of the
    scope this run did not touch. Readers see the old rows until the new ones commit.
-#}
{% macro get_incremental_bucket_replace_sql(arg_dict) %}
    {{ return(adapter.dispatch('bucket_replace_sql', 'tally')(arg_dict)) }}
{% endmacro %}


{% macro default__bucket_replace_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set dest_cols = arg_dict['dest_columns'] | map(attribute='name') | list -%}
    {%- set cols_csv = dest_cols | join(', ') -%}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- set tenant_col = config.get('tenant_column', spec.get('tenant_id', 'tenant_id')) -%}
    {%- set bucket_col = config.get('bucket_column', 'day_bucket') -%}
    {%- set bucket_kind = config.get('bucket_kind', 'day') -%}
    {%- set mode = tally.sliding_window_mode() -%}
    {%- set scope = tally.sliding_window_scope() -%}
    {%- set bucket_key = spec.get('bucket_key') -%}
    {%- set unique_key = config.get('unique_key') -%}
    {#- bucket_suffix: true (to the end) or N (to the end of the affected day's N-day block) -#}
    {%- set suffix = config.get('bucket_suffix', false) -%}
    {%- set suffix_block = suffix if (suffix is number and suffix is not sameas true) else none -%}
    {%- if unique_key is string -%}{%- set unique_key = [unique_key] -%}{%- endif -%}

    {%- if mode == 'rebuild' and tally.run_var('full_refresh_sweep', false) -%}
        {%- if not unique_key -%}
            {{ exceptions.raise_compiler_error("mark-and-sweep needs unique_key on " ~ this) }}
        {%- endif -%}
        {%- set update_cols = dest_cols | reject('in', unique_key) | list -%}
    -- mark: upsert every recomputed row of the scope, refreshing last_updated
    insert into {{ target }} ({{ cols_csv }})
    select {{ cols_csv }} from {{ source }}
    on conflict ({{ unique_key | join(', ') }}) do update set
        {%- for c in update_cols %}
        {{ c }} = excluded.{{ c }}{{ ',' if not loop.last }}
        {%- endfor %};
    -- sweep: rows of the scope this run did not touch
    delete from {{ target }} as t
    where t.{{ tenant_col }} = {{ tally.run_var(spec.get('rebuild_var', 'rebuild_tenant_id')) | int }}
        {%- if scope is not none %}
        and t.{{ scope[0] }} = {{ scope[1] }}
        {%- endif %}
        and t.last_updated < now()
    {%- elif config.get('affected_relation') -%}
        {#- optional: the model's own affected set (relation, match columns, lo, hi) -#}
        {%- set custom = config.get('affected_relation') %}
    delete from {{ target }} as t
    using {{ custom['relation'] }} as sw
    where t.{{ bucket_col }} >= sw.lo
        and t.{{ bucket_col }} < sw.hi
        {%- for c in custom.get('match', []) %}
        and t.{{ c }} = sw.{{ c }}
        {%- endfor %};
    insert into {{ target }} ({{ cols_csv }})
    select {{ cols_csv }} from {{ source }}
    {%- else -%}
    {#- the affected buckets' target rows: one select per kind of affected row, each
        joining on the columns of an index (whole tenant; tenant + bucket; tenant + key + day) -#}
    {%- set branches = [] -%}
    {%- set scope_sql = ('and t.' ~ scope[0] ~ ' = ' ~ scope[1]) if scope is not none else '' -%}
    {%- set day_op = '>=' if suffix else '=' -%}
    {%- set block_end = ('and t.' ~ bucket_col ~ ' < ' ~ tally.day_block_start('sw.day_bucket', suffix_block) ~ ' + ' ~ suffix_block) if suffix_block else '' -%}
    {%- set whole_col = 'key_value' if bucket_kind == 'key' else 'day_bucket' -%}
    {#- whole tenants (new, re-versioned, gone, rebuilt): no day (key mode: no key) - and
        with a bucket key neither key nor day, so a key row can never stand for the whole
        tenant (issue 16 F4). (Some marts' affected tables, e.g. the platform rollups',
        have no key_value column.) -#}
    {%- do branches.append('t.' ~ tenant_col ~ ' = sw.tenant_id and sw.' ~ whole_col ~ ' is null '
        ~ ('and sw.key_value is null ' if (bucket_kind == 'day' and bucket_key) else '') ~ scope_sql) -%}
    {#- single buckets -#}
    {%- if bucket_kind == 'day' -%}
        {%- do branches.append('t.' ~ tenant_col ~ ' = sw.tenant_id and t.' ~ bucket_col ~ ' ' ~ day_op ~ ' sw.day_bucket '
            ~ block_end ~ (' and sw.key_value is null ' if bucket_key else ' ') ~ scope_sql) -%}
    {%- elif bucket_kind == 'key' -%}
        {%- do branches.append('t.' ~ tenant_col ~ ' = sw.tenant_id and t.' ~ bucket_col ~ ' = sw.key_value ' ~ scope_sql) -%}
    {%- else -%}
        {%- do branches.append('t.' ~ tenant_col ~ ' = sw.tenant_id and sw.day_bucket is not null and t.'
            ~ bucket_col ~ ' >= sw.lo and t.' ~ bucket_col ~ ' < sw.hi ' ~ scope_sql) -%}
    {%- endif -%}
    {#- one key's day (bucket key; with bucket_suffix the key's rows from that day on / to its block's end) -#}
    {%- if bucket_kind == 'day' and bucket_key -%}
        {%- do branches.append('t.' ~ tenant_col ~ ' = sw.tenant_id and t.' ~ bucket_key ~ ' = sw.key_value and t.'
            ~ bucket_col ~ ' ' ~ day_op ~ ' sw.day_bucket ' ~ block_end ~ ' and sw.key_value is not null') -%}
    {%- endif -%}
    {%- if unique_key %}
    {%- set values = dest_cols | reject('in', unique_key + ['last_updated', 'run_id']) | list -%}
    {%- set diff = this.identifier ~ '__diff' %}
    -- one comparison of the affected buckets' target rows with the recomputed rows (hash
    -- full join on the grain): the target rows that are gone or differ, the recomputed rows
    -- that are new or differ. Only those are written: a bucket without a change keeps its
    -- rows (and their last_updated / run_id)
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
    select old.present, {% for c in unique_key %}old.{{ c }}, {% endfor %}s.ctid as source_row
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
    -- the new ones: a recomputed row outside the affected buckets (none expected) is not
    -- written over an existing row of its grain. (Probing only these: the replaced rows'
    -- probes cost ~0.1 s of a late running-totals tick, on index pages the delete had
    -- just made not all-visible.)
    insert into {{ target }} ({{ cols_csv }})
    select {{ cols_csv }} from {{ source }} as s
    where s.ctid = any(array(select d.source_row from {{ diff }} as d where d.source_row is not null and d.present is null))
        and not exists (
            select 1 from {{ target }} as t
            where {% for c in unique_key %}t.{{ c }} = s.{{ c }}{{ ' and ' if not loop.last }}{% endfor %}
        )
    {%- else %}
    {%- for branch in branches %}
    delete from {{ target }} as t
    using {{ tally.sliding_window_affected() }} as sw
    where {{ branch }};
    {%- endfor %}
    insert into {{ target }} ({{ cols_csv }})
    select {{ cols_csv }} from {{ source }}
    {%- endif %}
    {%- endif -%}
{% endmacro %}


{#- The lineage columns every mart row carries. -#}
{% macro lineage_columns() -%}
    now() as last_updated,
    cast('{{ invocation_id }}' as text) as run_id
{%- endmacro %}


{#- First pre-hook of a mart whose run reads its own rows or side tables (a ledger,
    running totals): runs of that mart take turns - a second run waits here until the
    first commits, so every statement after it sees what the first one wrote. -#}
{% macro mart_lock() -%}
    select pg_advisory_xact_lock(hashtext('tally:mart:{{ this.identifier }}'))
{%- endmacro %}
