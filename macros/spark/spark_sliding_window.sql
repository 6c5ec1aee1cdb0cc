{#-
    The sliding window on Spark (docs/scale-out.md). The mart is a parquet table
    partitioned by its day bucket, and the unit of work is the partition: a run
    recomputes every affected local day whole, for every tenant, and overwrites those
    partitions (spark__bucket_replace_sql). PostgreSQL's engine replaces single
    (tenant, key, day) buckets row by row; a partition is coarser, never less exact.

    The affected set `marts_internal.<model>__affected` (tenant_id, day_bucket) is a
    table, written by the pre-hook:
      tick      the window (stretched back to the previous run after a gap), the local
                days of rows changed since the tenant's watermark minus the lag (new
                versions from the staging model, old versions and deletions from the
                source's change feed raw.raw_changes), and every day of a tenant that is
                new, re-versioned (timezone, configuration) or gone;
      backfill  window_start..window_end of every valid tenant (or of one);
      rebuild   every day of the rebuilt tenant (a scoped rebuild rebuilds the tenant).
    The shared CTEs (tenants, valid, progress, changed, the rebuild's `whole`) are the
    PostgreSQL engine's own macros.

    Supported: day marts (partitioned by their `bucket_column`) without `follow` or
    `carry` events; and key mode (agg_campaign_recipient_totals) partitioned by the
    tenant: the affected set is then (tenant_id, null), every affected tenant is
    recomputed whole from raw and its partition overwritten - no ledger, so `carry` is
    not needed there. Anything else is PostgreSQL-only and says so
    (spark_require_day_spec).
-#}
{% macro spark_affected() -%}
    {{ tally.internal_schema() }}.{{ this.identifier }}__affected
{%- endmacro %}


{#- The mart's partition: `column` (the first of partition_by) and `affected` (the
    affected set's column holding its values: tenant_id for a tenant-partitioned mart,
    else day_bucket, a date). -#}
{% macro spark_partition() %}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- set partition_by = config.get('partition_by') or [config.get('bucket_column', 'day_bucket')] -%}
    {%- set column = partition_by if partition_by is string else partition_by[0] -%}
    {%- set by_tenant = column == config.get('tenant_column', spec.tenant_id) -%}
    {{ return({'column': column, 'affected': 'tenant_id' if by_tenant else 'day_bucket'}) }}
{% endmacro %}


{#- One line when the model's sliding window needs a PostgreSQL-only part. -#}
{% macro spark_require_day_spec(spec) %}
    {%- set unsupported = [] -%}
    {%- if spec.events | selectattr('follow') | list %}{% do unsupported.append('follow events (a customer\'s later days)') %}{% endif -%}
    {%- if spec.key is none -%}
    {%- for e in spec.events if e.carry %}{% do unsupported.append('carried change columns (ledgers)') %}{% endfor -%}
    {%- endif -%}
    {%- if spec.backfill_whole %}{% do unsupported.append('whole-tenant backfills (running totals)') %}{% endif -%}
    {%- if unsupported -%}
        {{ exceptions.raise_compiler_error(this.identifier ~ " is PostgreSQL-only: its sliding window uses "
            ~ (unsupported | unique | join(', ')) ~ "; docs/scale-out.md lists the marts that run on Spark") }}
    {%- endif -%}
{% endmacro %}


{% macro spark__sliding_window_prepare() %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- do tally.spark_require_day_spec(spec) -%}
    {%- set mode = tally.sliding_window_mode() -%}
    {%- if mode == 'full' -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set lag = "interval " ~ tally.run_var('watermark_lag_minutes') ~ " minutes" -%}
    {%- set program -%}
    {{ tally.sliding_window_base_ctes(spec) }}

    {% if mode == 'rebuild' or (mode == 'backfill' and spec.key is not none) -%}
    {{ tally.sliding_window_whole_ctes(spec, mode) }}
    {%- elif mode == 'backfill' -%}
    {{ tally.spark_backfill_ctes(spec) }}
    {%- else -%}
    {{ tally.spark_tick_ctes(spec, lag) }}
    {%- endif %}
    {%- endset -%}
    {%- do run_query('create database if not exists ' ~ tally.internal_schema()) -%}
    {%- do run_query('drop table if exists ' ~ tally.spark_affected()) -%}
    {%- if spec.key is not none %}
    {#- key mode: every tenant that is whole or holds a change (backfill: every tenant) -#}
    create table {{ tally.spark_affected() }} using parquet as
    {{ program }}

    final as (
        select whole.tenant_id from whole
        union
        select days.tenant_id from days
    )

    select distinct final.tenant_id, cast(null as date) as day_bucket from final
    {%- else -%}
    {#- the whole tenants first (usually none): their old buckets are read from the mart
        only when there are some - a scan of every partition otherwise -#}
    {%- set whole = run_query(program ~ "\n    unused as (select 1)\n    select whole.tenant_id from whole")
        .columns[0].values() | map('int') | list -%}
    create table {{ tally.spark_affected() }} using parquet as
    {{ program }}

    {{ tally.spark_final(spec, whole) }}

    select * from final
    {%- endif %}
{% endmacro %}


{#- Tick: `whole` and `since` as on PostgreSQL; `days` = the window and the changed
    rows' days. Key mode: the tenants (day_bucket null) of the changed rows and of the
    rows in the window - a tenant partition has no days, so the window is the tenants
    with events in it (a row the source wrote with an old updated_at is still found). -#}
{% macro spark_tick_ctes(spec, lag) -%}
    {%- set today = tally.local_today('valid.tz') -%}
    {{ tally.sliding_window_tick_whole() }},

    {{ tally.sliding_window_since(lag) }}

    changed as (
        {{ tally.sliding_window_changed(spec, {}) }}
    ),

    days as (
        {%- if spec.window_days > 0 and spec.key is not none %}
        {%- for e in spec.events %}
        -- key mode: the tenants with events in the window, stretched back after a gap
        select valid.tenant_id, cast(null as date) as day_bucket
        from {{ ref(e.model) }} as ev
        inner join valid on ev.{{ e.tenant }} = valid.tenant_id
        left join progress on valid.tenant_id = progress.tenant_id
        where {{ tally.day_bucket('ev.' ~ e.ts, 'valid.tz') }} >= least(
            date_sub({{ today }}, {{ spec.window_days - 1 }}),
            coalesce({{ tally.day_bucket('progress.watermark - ' ~ lag, 'valid.tz') }}, {{ today }})
        )
        union
        {%- endfor %}
        {%- elif spec.window_days > 0 %}
        -- the sliding window, stretched back to the previous run if it was long ago
        select valid.tenant_id, window_day.d as day_bucket
        from valid
        left join progress on valid.tenant_id = progress.tenant_id
        lateral view explode(sequence(
            least(
                date_sub({{ today }}, {{ spec.window_days - 1 }}),
                coalesce({{ tally.day_bucket('progress.watermark - ' ~ lag, 'valid.tz') }}, {{ today }})
            ),
            {{ today }}
        )) window_day as d
        union
        {%- endif %}
        -- every local day holding a row changed since this tenant's watermark
        select changed.tenant_id,
            {% if spec.key is none %}{{ tally.day_bucket('changed.ts', 'valid.tz') }}{% else %}cast(null as date){% endif %} as day_bucket
        from changed
        inner join valid on changed.tenant_id = valid.tenant_id
        inner join progress on changed.tenant_id = progress.tenant_id
        where changed.changed_at > progress.watermark - {{ lag }}
            {%- if spec.key is none %}
            and changed.ts is not null
            {%- endif %}
    ),
{%- endmacro %}


{#- Backfill: the local days window_start..window_end of every valid tenant (or of the
    one of spec backfill_tenant_var). -#}
{% macro spark_backfill_ctes(spec) -%}
    {%- set tenant = tally.sliding_window_tenant(spec, 'backfill') -%}
    whole as (
        select cast(null as bigint) as tenant_id where false
    ),

    days as (
        select valid.tenant_id, backfill_day.d as day_bucket
        from valid
        lateral view explode(sequence(
            cast('{{ tally.run_var("window_start") }}' as date),
            cast('{{ tally.run_var("window_end") }}' as date)
        )) backfill_day as d
        {%- if tenant is not none %}
        where valid.tenant_id = {{ tenant }}
        {%- endif %}
    ),
{%- endmacro %}


{#- CTE `final`: (tenant_id, day_bucket), distinct - the `days`, and every day a whole
    tenant (`whole`: their ids) holds in the mart (its old buckets) or in its events
    (its new ones); for a gap-filled mart (spec `first_day`: rows on days without
    events) also every day from the tenant's first bucket through today. -#}
{% macro spark_final(spec, whole) -%}
    {%- set tenant_col = config.get('tenant_column', spec.tenant_id) -%}
    {%- set bucket = config.get('bucket_column', 'day_bucket') -%}
    final as (
        select days.tenant_id, days.day_bucket
        from days
        where days.day_bucket is not null
        {%- if whole %}
        union
        select mart.{{ tenant_col }} as tenant_id, mart.{{ bucket }} as day_bucket
        from {{ this }} as mart
        where mart.{{ tenant_col }} in ({{ whole | join(', ') }})
        {%- for e in spec.events %}
        union
        select ev.{{ e.tenant }} as tenant_id, {{ tally.day_bucket('ev.' ~ e.ts, 'valid.tz') }} as day_bucket
        from {{ ref(e.model) }} as ev
        inner join valid on ev.{{ e.tenant }} = valid.tenant_id
        where ev.{{ e.tenant }} in ({{ whole | join(', ') }})
            and ev.{{ e.ts }} is not null
        {%- endfor %}
        {%- if spec.first_day is not none %}
        union
        select valid.tenant_id, gap_day.d as day_bucket
        from {{ ref(spec.tenants) }} as tn
        inner join valid on tn.{{ spec.tenant_id }} = valid.tenant_id
        lateral view explode(sequence(
            least({{ spec.first_day }}, {{ tally.local_today('valid.tz') }}),
            {{ tally.local_today('valid.tz') }}
        )) gap_day as d
        where valid.tenant_id in ({{ whole | join(', ') }})
        {%- endif %}
        {%- endif %}
    )
{%- endmacro %}


{#- The read path (sliding_window_rows / sliding_window_grouped on Spark): the rows of
    `relation` whose UTC date is within a day of an affected partition (a local day
    lies in the UTC days before, on and after it) - a semi-join a raw table
    partitioned by that date prunes to the affected partitions. The caller keeps the
    groups of affected days only (spark_affected_days_filter). -#}
{% macro spark_affected_rows(relation, ts_col) -%}
    (
        select r.*
        from {{ relation }} as r
        left semi join (
            select distinct date_add(sw.day_bucket, near.offset) as utc_day
            from {{ tally.spark_affected() }} as sw
            lateral view explode(array(-1, 0, 1)) near as offset
        ) as near_days
            on to_date(r.{{ ts_col }}) = near_days.utc_day
    )
{%- endmacro %}


{#- WHERE predicate on an aggregate's output: its bucket is an affected partition. -#}
{% macro spark_affected_days_filter(bucket_expr) -%}
    {{ bucket_expr }} in (select sw.day_bucket from {{ tally.spark_affected() }} as sw)
{%- endmacro %}


{#- Post-hook: as on PostgreSQL, full, tick and whole-tenant rebuild runs advance the
    progress of every valid tenant they covered (to the invocation's start: Spark has
    no transaction whose start now() would name); full and tick runs drop the progress
    of vanished tenants. The mart's partition of ops.aggregation_progress is rewritten
    through a staging table (Spark cannot overwrite a table it reads). -#}
{% macro spark__sliding_window_record() %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set mode = tally.sliding_window_mode() -%}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- set mart = this.identifier -%}
    {%- set started = "cast('" ~ run_started_at.isoformat() ~ "' as timestamp)" -%}
    {%- set scope = tally.sliding_window_scope() -%}
    {%- set rebuilt = tally.sliding_window_tenant(spec, mode) if mode == 'rebuild' else none -%}
    {%- if mode in ('full', 'tick') or (mode == 'rebuild' and scope is none) -%}
    {%- set next = tally.internal_schema() ~ '.' ~ mart ~ '__progress' -%}
    {%- set covered -%}
        select tenants.tenant_id from ({{ tally.sliding_window_tenants(spec) }}) as tenants
        where tenants.tz is not null
        {%- if rebuilt is not none %} and tenants.tenant_id = {{ rebuilt }}{% endif %}
    {%- endset -%}
    {%- do run_query('drop table if exists ' ~ next) -%}
    {%- set staged -%}
        create table {{ next }} using parquet as
        select tenants.tenant_id, {{ started }} as watermark, '{{ invocation_id }}' as last_run_id,
            now() as last_run_at, tenants.tenant_version
        from ({{ tally.sliding_window_tenants(spec) }}) as tenants
        where tenants.tenant_id in ({{ covered }})
        union all
        select pr.tenant_id, pr.watermark, pr.last_run_id, pr.last_run_at, pr.tenant_version
        from ops.aggregation_progress as pr
        where pr.mart = '{{ mart }}'
            and pr.tenant_id not in ({{ covered }})
            {%- if mode in ('full', 'tick') %}
            and pr.tenant_id in (select tenants.tenant_id from ({{ tally.sliding_window_tenants(spec) }}) as tenants)
            {%- endif %}
    {%- endset -%}
    {%- do run_query(staged) -%}
    {%- do run_query("insert overwrite table ops.aggregation_progress partition (mart = '" ~ mart ~ "') "
        ~ "select tenant_id, watermark, last_run_id, last_run_at, tenant_version from " ~ next) -%}
    {%- do run_query('drop table if exists ' ~ next) -%}
    {%- endif %}
    insert into ops.mart_runs
    select '{{ mart }}', '{{ invocation_id }}', '{{ mode }}', now(), {{ started }},
        {% if mode == 'full' %}cast(null as bigint){% else %}(select count(*) from {{ tally.spark_affected() }}){% endif %}
{% endmacro %}
