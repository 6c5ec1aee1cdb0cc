{#-
    The sliding window, shared by every incremental mart.

    A mart opts in with two config keys (see docs/incremental.md):

        sliding_window={
            'tenants': 'int_orders__organizations_validated',   -- model: one row per tenant
            'tenant_id': 'organization_id',            -- its tenant id column
            'timezone': 'timezone',                    -- validated IANA name (NULL = invalid)
            'version': 'config_version',               -- text; a change rebuilds the tenant
            'events': [{'model': 'stg_orders__attributions',   -- unfiltered staging view
                        'tenant': 'organization_id', 'ts': 'ordered_at',
                        'raw_table': 'attributions'}],           -- deletion capture key
            'rebuild_var': 'rebuild_organization_id',
            'scope_column': 'campaign_id', 'scope_var': 'rebuild_campaign_id',
            'window_days': 1,                          -- optional: overrides var sliding_window_days
            'bucket_key': 'campaign_id',               -- optional: see "bucket key" below
        },
        bucket_column='day_bucket', bucket_kind='day',   -- or 'instant' for timestamp buckets

    plus `pre_hook="{{ tally.sliding_window_prepare() }}"` and
    `post_hook="{{ tally.sliding_window_record() }}"`, and filters its raw rows with
    `where {{ tally.sliding_window_filter('a.organization_id', 'a.ordered_at') }}`.

    Modes (tally.sliding_window_mode()):
      full     - first build / --full-refresh: everything, no filter.
      tick     - every tenant's last `sliding_window_days` local days (stretched back to
                 the previous run's watermark, so a gap between runs is caught up)
                 + every (tenant, local day) holding a raw row updated since the watermark
                   (minus `watermark_lag_minutes`) or a captured delete/update (ops.raw_changes)
                 + whole tenants that are new or whose version (timezone, config) changed
                 + whole tenants that no longer exist (their rows are removed).
      backfill - vars window_start..window_end (local dates, inclusive) for every tenant.
                 Optional spec key 'backfill_tenant_var' (e.g. 'backfill_account_id'):
                 when that var is set, only that tenant's days.
      rebuild  - var <rebuild_var> set: that whole tenant (optionally one scope value).

    Follow (event key `follow`, e.g. 'customer_id', needs `bucket_key`): a changed row
    also affects the later buckets of the same (key, follow) entity - for a mart whose
    bucket for day X depends on the entity's earlier days (agg_order_customer_day_pairs:
    a customer's previous order day). Every (tenant, key, local day) holding a row of
    that entity at or after the changed row's time is added (one index lookup on
    (key, follow) per changed row); a backfill of such a mart recomputes from
    window_start through today. With `follow_earlier: true` the entity's earlier buckets
    are added too (running totals by the earlier day of a pair). `window_days: 0`: no
    window days - the mart is recomputed only where rows changed (plus whole tenants).
    `backfill_whole: true`: a backfill recomputes every tenant whole.

    Carry (event key `carry`, e.g. {'customer_id': 'bigint'}): in a tick the changed
    rows (staging rows updated since each valid tenant's watermark and captured old
    versions) are also kept as the temporary table `<model>__changed` (tenant_id, ts,
    key_value, follow_value, event_no, changed_at, the carried columns) - for a model
    that updates by entity (agg_campaign_recipient_totals' ledger). Other modes do not
    create it.

    Bucket key (spec `bucket_key`, e.g. campaign_id): a changed row affects only its
    (tenant, key, local day) bucket, not the tenant's whole day - 5,000 late updates then
    re-read the rows of ~5,000 campaign-days, not of ~5,000 organization-days. Window,
    backfill and whole-tenant rows still cover every key (key_value NULL). The mart
    reads its rows with `sliding_window_rows(..., key_col=...)`.

    The affected set lives in a temporary table `<model>__affected` (tenant_id,
    key_value, day_bucket, lo, hi) for the duration of the model's transaction; the
    `bucket_replace` strategy deletes exactly those buckets before inserting.
-#}

{% macro sliding_window_spec() %}
    {#- at parse time config.get() answers a placeholder, not the model's dict -#}
    {%- if not execute -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set spec = config.get('sliding_window') -%}
    {%- if spec is none or spec is string -%}
        {{ exceptions.raise_compiler_error("model " ~ this ~ " uses the sliding window but has no sliding_window config") }}
    {%- endif -%}
    {{ return(spec) }}
{% endmacro %}


{% macro sliding_window_affected() -%}
    {{ this.identifier ~ '__affected' }}
{%- endmacro %}


{% macro sliding_window_mode() %}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- if not is_incremental() -%}
        {{ return('full') }}
    {%- elif tally.run_var(spec.get('rebuild_var', 'rebuild_tenant_id'), none) is not none -%}
        {{ return('rebuild') }}
    {%- elif tally.run_var('window_start', none) is not none or tally.run_var('window_end', none) is not none -%}
        {%- if tally.run_var('window_start', none) is none or tally.run_var('window_end', none) is none -%}
            {{ exceptions.raise_compiler_error("pass both window_start and window_end (local dates, inclusive)") }}
        {%- endif -%}
        {%- if (tally.run_var('window_start') | string) > (tally.run_var('window_end') | string) -%}
            {{ exceptions.raise_compiler_error("window_start " ~ tally.run_var('window_start') ~ " is after window_end " ~ tally.run_var('window_end')) }}
        {%- endif -%}
        {{ return('backfill') }}
    {%- else -%}
        {{ return('tick') }}
    {%- endif -%}
{% endmacro %}


{#- Scope of a campaign-level rebuild: ('campaign_id', 5) or none. -#}
{% macro sliding_window_scope() %}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- if tally.sliding_window_mode() == 'rebuild' and spec.get('scope_var') and tally.run_var(spec.get('scope_var'), none) is not none -%}
        {{ return((spec['scope_column'], tally.run_var(spec['scope_var']) | int)) }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}


{#- One row per tenant: tenant_id, tz (validated, NULL when invalid), tenant_version. -#}
{% macro _sliding_window_tenants(spec) -%}
    select
        tn.{{ spec.get('tenant_id', 'tenant_id') }} as tenant_id,
        tn.{{ spec.get('timezone', 'timezone') }} as tz,
        cast({{ spec.get('version', "''") }} as text) as tenant_version
    from {{ ref(spec['tenants']) }} as tn
{%- endmacro %}


{% macro sliding_window_filter(tenant_expr, ts_expr, scope_expr=none) -%}
    {%- set mode = tally.sliding_window_mode() -%}
    {%- if mode == 'full' -%}
        true
    {%- else -%}
        exists (
            select 1
            from {{ tally.sliding_window_affected() }} as sw
            where sw.tenant_id = {{ tenant_expr }}
                and {{ ts_expr }} >= sw.lo
                and {{ ts_expr }} < sw.hi
        )
        {%- set scope = tally.sliding_window_scope() -%}
        {%- if scope is not none and scope_expr is not none %}
        and {{ scope_expr }} = {{ scope[1] }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- The rows of the affected buckets as a FROM item (preferred for large tables):
    `from {{ tally.sliding_window_rows(ref('int_x'), 'tenant_col', 'ts_col') }} as q`.
    Drives one index range scan per affected bucket through a LATERAL subquery (OFFSET 0
    keeps it from being flattened), so the cost follows the affected buckets, not the
    history: a plain join or EXISTS with range conditions is mis-estimated and ends in a
    scan of the whole table. With a bucket key (`key_col`), buckets of one key use an
    index on (key, ts) and whole-day buckets one on (tenant, ts); the affected set never
    holds a key bucket inside a whole-day bucket of the same tenant and day, so no row
    comes twice. In full mode it is the relation itself. -#}
{% macro sliding_window_rows(relation, tenant_col, ts_col, scope_col=none, key_col=none) -%}
    {%- if tally.sliding_window_mode() == 'full' -%}
    {{ relation }}
    {%- else -%}
    {%- set conditions = tally._sliding_window_conditions(tenant_col, ts_col, scope_col, key_col) -%}
    (
        {{ tally.sliding_window_lateral(relation, conditions.day, 'sw.key_value is null' if key_col is not none else none) }}
        {%- if key_col is not none %}
        union all
        {{ tally.sliding_window_lateral(relation, conditions.key, 'sw.key_value is not null') }}
        {%- endif %}
    )
    {%- endif -%}
{%- endmacro %}


{#- The affected buckets' rows aggregated bucket by bucket - for a mart whose rows are
    one GROUP BY over its source (agg_order_daily, agg_order_customer_daily). Called as
    a call block whose body is that aggregate over the FROM item it is given:

        {% call(rows) tally.sliding_window_grouped(ref('int_x'), 'tenant_col', 'ts_col') %}
            select q.tenant_col, q.day_bucket, count(distinct q.customer_id) as n
            from {{ rows }} as q
            group by 1, 2
        {% endcall %}

    Full mode: the body over the relation itself (one aggregate). Other modes: the body
    runs inside the LATERAL lookup of every affected row, over that row's rows only, so
    each aggregate sorts or hashes the rows of one bucket (a few dozen, or one tenant's
    day) instead of one sort of every affected row: the statement ~23 % faster, a late
    agg_order_daily tick ~10 % (scale 100, 5,000 late updates). Correct because the affected rows never share a bucket (see
    sliding_window_rows): the body's GROUP BY must include the bucket - the tenant, the
    day bucket and, with `key_col`, the key - so that every group lies inside one
    affected row. -#}
{% macro sliding_window_grouped(relation, tenant_col, ts_col, scope_col=none, key_col=none) -%}
    {%- set body = caller -%}
    {%- if tally.sliding_window_mode() == 'full' -%}
    {{ body(relation) }}
    {%- else -%}
    {%- set conditions = tally._sliding_window_conditions(tenant_col, ts_col, scope_col, key_col) -%}
    {{ tally.sliding_window_lateral(relation, conditions.day, 'sw.key_value is null' if key_col is not none else none, body=body) }}
    {%- if key_col is not none %}
    union all
    {{ tally.sliding_window_lateral(relation, conditions.key, 'sw.key_value is not null', body=body) }}
    {%- endif %}
    {%- endif -%}
{%- endmacro %}


{#- The lookup conditions of sliding_window_rows / sliding_window_grouped (relation alias
    r, affected row sw): `day` for whole-day (and whole-tenant) rows, restricted to the
    scope of a scoped rebuild; `key` for key rows (none without a key column). -#}
{% macro _sliding_window_conditions(tenant_col, ts_col, scope_col, key_col) -%}
    {%- set scope = tally.sliding_window_scope() -%}
    {%- set in_bucket = ['r.' ~ tenant_col ~ ' = sw.tenant_id', 'r.' ~ ts_col ~ ' >= sw.lo', 'r.' ~ ts_col ~ ' < sw.hi'] -%}
    {%- set in_scope = ['r.' ~ scope_col ~ ' = ' ~ scope[1]] if scope is not none and scope_col is not none else [] -%}
    {{ return({
        'day': in_bucket + in_scope,
        'key': (['r.' ~ key_col ~ ' = sw.key_value'] + in_bucket) if key_col is not none else none,
    }) }}
{%- endmacro %}


{#- The rows of `relation` (alias r) matching `conditions` (SQL over r and the affected
    row sw), one LATERAL lookup per affected row passing `sw_filter` (none: every row).
    OFFSET 0 keeps the subquery from being flattened, so each lookup is an index scan.
    With `body` (a macro taking a FROM item, see sliding_window_grouped) the lookup is
    that query over the matching rows instead. Shared by sliding_window_rows,
    sliding_window_grouped and orders_campaign_rows. -#}
{% macro sliding_window_lateral(relation, conditions, sw_filter=none, body=none) -%}
        select swr.*
        from {{ tally.sliding_window_affected() }} as sw
        cross join lateral (
            {%- if body is none %}
            select r.*
            from {{ relation }} as r
            where {{ conditions | join('\n                and ') }}
            offset 0
            {%- else %}
            {{ body('(\n                select r.*\n                from ' ~ relation ~ ' as r\n                where ' ~ (conditions | join('\n                    and ')) ~ '\n            )') }}
            {%- endif %}
        ) as swr
        {%- if sw_filter is not none %}
        where {{ sw_filter }}
        {%- endif %}
{%- endmacro %}


{% macro sliding_window_prepare() %}
    {%- set mode = tally.sliding_window_mode() -%}
    {%- if mode == 'full' -%}
        select 1
    {%- else -%}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- set affected = tally.sliding_window_affected() -%}
    {%- set lag = "interval '" ~ tally.run_var('watermark_lag_minutes') ~ " minutes'" -%}
    {%- set n_days = spec.get('window_days', var('sliding_window_days')) | int -%}
    {%- set key = spec.get('key') -%}
    {%- set bucket_key = spec.get('bucket_key') -%}
    {%- set follows = spec['events'] | selectattr('follow', 'defined') | list -%}
    {%- set carry = {} -%}
    {%- for e in spec['events'] %}{% do carry.update(e.get('carry', {})) %}{% endfor -%}
    {%- if follows and not bucket_key -%}
        {{ exceptions.raise_compiler_error("sliding window of " ~ this ~ ": an event with `follow` needs `bucket_key`") }}
    {%- endif -%}
    {#- bucket_suffix replaces a bucket's rows from its day to the end (of its block): two
        affected rows of one tenant then cover overlapping ranges unless every row but
        whole tenants names its key. So a keyed suffix mart gets whole tenants and key
        days only - no window days, whole tenants in a backfill (issue 16 F1). -#}
    {%- if config.get('bucket_suffix', false) and (not bucket_key or n_days > 0 or not spec.get('backfill_whole')) -%}
        {{ exceptions.raise_compiler_error("sliding window of " ~ this ~ ": bucket_suffix needs `bucket_key`, `window_days: 0` and `backfill_whole: true` (overlapping day ranges would insert a row twice)") }}
    {%- endif -%}
    {%- if carry and mode == 'tick' %}
    -- events with `carry`: the changed rows (with the carried columns) of every valid
    -- tenant since its own watermark, kept as <model>__changed for the model
    drop table if exists {{ this.identifier ~ '__changed' }};
    create temporary table {{ this.identifier ~ '__changed' }} on commit drop as
    {{ tally._sliding_window_base_ctes(spec) }}

    {{ tally._sliding_window_since(lag) }}

    changed as (
        {{ tally._sliding_window_changed(spec, key or bucket_key, carry) }}
    )

    select changed.*
    from changed
    inner join valid on changed.tenant_id = valid.tenant_id
    inner join progress on changed.tenant_id = progress.tenant_id
    where changed.changed_at > progress.watermark - {{ lag }};
    analyze {{ this.identifier ~ '__changed' }};
    {%- endif %}
    drop table if exists {{ affected }};
    create temporary table {{ affected }} on commit drop as
    {{ tally._sliding_window_base_ctes(spec) }}

    {% if mode == 'rebuild' or (mode == 'backfill' and spec.get('backfill_whole')) %}
    -- whole tenants only: the rebuilt one, or (spec backfill_whole) every tenant in a
    -- backfill - a mart whose rows depend on every earlier day, e.g. running totals
    whole as (
        select valid.tenant_id from valid
        {%- if mode == 'rebuild' %}
        where valid.tenant_id = {{ tally.run_var(spec.get('rebuild_var', 'rebuild_tenant_id')) | int }}
        {%- elif spec.get('backfill_tenant_var') and tally.run_var(spec['backfill_tenant_var'], none) is not none %}
        where valid.tenant_id = {{ tally.run_var(spec['backfill_tenant_var']) | int }}
        {%- endif %}
    ),

    days as (
        select cast(null as bigint) as tenant_id, cast(null as date) as day_bucket,
            cast(null as bigint) as key_value
        where false
    ),

    keys as (
        select cast(null as bigint) as tenant_id, cast(null as bigint) as key_value where false
    ),
    {% elif mode == 'backfill' %}
    whole as (
        select cast(null as bigint) as tenant_id where false
    ),

    days as (
        select valid.tenant_id, cast(d as date) as day_bucket, cast(null as bigint) as key_value
        from valid
        cross join generate_series(
            cast('{{ tally.run_var("window_start") }}' as date),
            {%- if follows %}
            -- later buckets depend on these days (spec `follow`): recompute through today
            greatest(cast('{{ tally.run_var("window_end") }}' as date), {{ tally.local_today('valid.tz') }}),
            {%- else %}
            cast('{{ tally.run_var("window_end") }}' as date),
            {%- endif %}
            interval '1 day'
        ) as d
        {%- if spec.get('backfill_tenant_var') and tally.run_var(spec['backfill_tenant_var'], none) is not none %}
        -- optional: a backfill of one tenant only (spec key backfill_tenant_var)
        where valid.tenant_id = {{ tally.run_var(spec['backfill_tenant_var']) | int }}
        {%- endif %}
    ),

    keys as (
        {%- if key %}
        {%- for e in spec['events'] %}
        select distinct ev.{{ e['tenant'] }} as tenant_id, ev.{{ e.get('key', key) }} as key_value
        from days
        inner join valid on days.tenant_id = valid.tenant_id
        inner join {{ ref(e['model']) }} as ev
            on ev.{{ e['tenant'] }} = days.tenant_id
            and ev.{{ e['ts'] }} >= {{ tally.local_day_start('days.day_bucket', 'valid.tz') }}
            and ev.{{ e['ts'] }} < {{ tally.local_day_start('days.day_bucket + 1', 'valid.tz') }}
        {%- if not loop.last %}
        union
        {%- endif %}
        {%- endfor %}
        {%- else %}
        select cast(null as bigint) as tenant_id, cast(null as bigint) as key_value where false
        {%- endif %}
    ),
    {% else %}
    whole as (
        -- new tenants and tenants whose timezone/config changed: rebuild whole
        select valid.tenant_id
        from valid
        left join progress on valid.tenant_id = progress.tenant_id
        where progress.tenant_id is null
            or progress.tenant_version is distinct from valid.tenant_version
        union
        -- tenants that are gone (or lost their timezone): remove their rows
        select progress.tenant_id
        from progress
        where not exists (select 1 from tenants where tenants.tenant_id = progress.tenant_id)
    ),

    {{ tally._sliding_window_since(lag) }}

    changed as (
        {%- if carry %}
        select changed.tenant_id, changed.ts, changed.key_value, changed.follow_value,
            changed.event_no, changed.changed_at
        from {{ this.identifier ~ '__changed' }} as changed
        {%- else %}
        {{ tally._sliding_window_changed(spec, key or bucket_key, {}) }}
        {%- endif %}
    ),

    days as (
        {%- if n_days > 0 %}
        -- the sliding window, stretched back to the previous run if it was long ago
        select valid.tenant_id, cast(d as date) as day_bucket, cast(null as bigint) as key_value
        from valid
        left join progress on valid.tenant_id = progress.tenant_id
        cross join lateral generate_series(
            least(
                {{ tally.local_today('valid.tz') }} - {{ n_days - 1 }},
                coalesce({{ tally.day_bucket('progress.watermark - ' ~ lag, 'valid.tz') }}, {{ tally.local_today('valid.tz') }})
            ),
            {{ tally.local_today('valid.tz') }},
            interval '1 day'
        ) as d
        union
        {%- endif %}
        {%- for e in spec['events'] %}{% if e.get('follow') %}
        -- the later buckets of each changed row's (key, follow) entity (spec `follow`)
        select changed.tenant_id, {{ tally.day_bucket('later.ts', 'valid.tz') }} as day_bucket, changed.key_value
        from changed
        inner join valid on changed.tenant_id = valid.tenant_id
        inner join progress on changed.tenant_id = progress.tenant_id
        cross join lateral (
            select ev.{{ e['ts'] }} as ts
            from {{ ref(e['model']) }} as ev
            where ev.{{ e.get('key', bucket_key) }} = changed.key_value
                and ev.{{ e['follow'] }} = changed.follow_value
                and ev.{{ e['tenant'] }} = changed.tenant_id
                -- a row without a time is in no bucket (issue 16 F4)
                and ev.{{ e['ts'] }} is not null
                {%- if not e.get('follow_earlier') %}
                and ev.{{ e['ts'] }} > changed.ts
                {%- endif %}
            offset 0
        ) as later
        where changed.event_no = {{ loop.index }}
            and changed.ts is not null
            and changed.changed_at > progress.watermark - {{ lag }}
        union
        {%- endif %}{% endfor %}
        -- every local day (with a bucket key: every key's day) holding a row changed
        -- since this tenant's watermark. With a bucket key, a row (or old version)
        -- without a key is in no bucket: the key is part of the mart's grain and never
        -- NULL there. (It used to stand for the whole day, which overlapped the key days
        -- of a bucket_suffix mart and inserted a row twice - issue 16 F1.)
        select
            changed.tenant_id,
            {{ tally.day_bucket('changed.ts', 'valid.tz') }} as day_bucket,
            {% if bucket_key %}changed.key_value{% else %}cast(null as bigint){% endif %} as key_value
        from changed
        inner join valid on changed.tenant_id = valid.tenant_id
        inner join progress on changed.tenant_id = progress.tenant_id
        where changed.ts is not null
            and changed.changed_at > progress.watermark - {{ lag }}
            {%- if bucket_key %}
            and changed.key_value is not null
            {%- endif %}
    ),

    keys as (
        -- key mode: every (tenant, key) holding a row changed since the tenant's watermark
        select changed.tenant_id, changed.key_value
        from changed
        inner join valid on changed.tenant_id = valid.tenant_id
        inner join progress on changed.tenant_id = progress.tenant_id
        where changed.key_value is not null
            and changed.changed_at > progress.watermark - {{ lag }}
    ),
    {% endif %}

    final as (
        select
            whole.tenant_id,
            cast(null as bigint) as key_value,
            cast(null as date) as day_bucket,
            cast('-infinity' as timestamptz) as lo,
            cast('infinity' as timestamptz) as hi
        from whole
        union all
        {%- if key %}
        select
            keys.tenant_id,
            keys.key_value,
            cast(null as date) as day_bucket,
            cast('-infinity' as timestamptz) as lo,
            cast('infinity' as timestamptz) as hi
        from (select distinct keys.tenant_id, keys.key_value from keys) as keys
        inner join valid on keys.tenant_id = valid.tenant_id
        where keys.tenant_id not in (select whole.tenant_id from whole)
        {%- else %}
        select
            days.tenant_id,
            days.key_value,
            days.day_bucket,
            {{ tally.local_day_start('days.day_bucket', 'valid.tz') }} as lo,
            {{ tally.local_day_start('days.day_bucket + 1', 'valid.tz') }} as hi
        from (select distinct days.tenant_id, days.day_bucket, days.key_value from days) as days
        inner join valid on days.tenant_id = valid.tenant_id
        where days.tenant_id not in (select whole.tenant_id from whole)
            -- no day, no bucket: an affected row without a day would stand for the
            -- whole tenant (day_bucket NULL) in bucket_replace and in the marts' reads
            -- (issue 16 F4: a NULL ordered_at row found by `follow_earlier`)
            and days.day_bucket is not null
            -- a key's day inside a whole day of the same tenant is covered already
            and not (
                days.key_value is not null
                and exists (
                    select 1 from days as whole_day
                    where whole_day.tenant_id = days.tenant_id
                        and whole_day.day_bucket = days.day_bucket
                        and whole_day.key_value is null
                )
            )
        {%- endif %}
    )

    select * from final;
    analyze {{ affected }}
    {%- endif -%}
{% endmacro %}


{% macro sliding_window_record() %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set mode = tally.sliding_window_mode() -%}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- set mart = this.identifier -%}
    {%- set scope = tally.sliding_window_scope() -%}
    {%- if mode in ('full', 'tick') or (mode == 'rebuild' and scope is none) %}
    with tenants as (
        {{ tally._sliding_window_tenants(spec) }}
    )
    insert into ops.aggregation_progress as pr
        (mart, tenant_id, watermark, last_run_id, last_run_at, tenant_version)
    select '{{ mart }}', tenants.tenant_id, now(), '{{ invocation_id }}', now(), tenants.tenant_version
    from tenants
    where tenants.tz is not null
    {%- if mode == 'rebuild' %}
        and tenants.tenant_id = {{ tally.run_var(spec.get('rebuild_var', 'rebuild_tenant_id')) | int }}
    {%- endif %}
    on conflict (mart, tenant_id) do update set
        watermark = excluded.watermark,
        last_run_id = excluded.last_run_id,
        last_run_at = excluded.last_run_at,
        tenant_version = excluded.tenant_version;
    {%- endif %}
    {%- if mode in ('full', 'tick') %}
    with tenants as (
        {{ tally._sliding_window_tenants(spec) }}
    )
    delete from ops.aggregation_progress as pr
    where pr.mart = '{{ mart }}'
        and not exists (select 1 from tenants where tenants.tenant_id = pr.tenant_id);
    {%- endif %}
    insert into ops.mart_runs (mart, run_id, mode, started_at, watermark, affected_buckets)
    values (
        '{{ mart }}', '{{ invocation_id }}', '{{ mode }}', now(), now(),
        {% if mode == 'full' %}null{% else %}(select count(*) from {{ tally.sliding_window_affected() }}){% endif %}
    )
    on conflict (mart, run_id) do nothing
{% endmacro %}


{#- The first CTEs of sliding_window_prepare's statements (WITH included): tenants,
    valid (timezone known) and progress (this mart's watermark and version per tenant). -#}
{% macro _sliding_window_base_ctes(spec) -%}
    with tenants as (
        {{ tally._sliding_window_tenants(spec) }}
    ),

    valid as (
        select tenants.* from tenants where tenants.tz is not null
    ),

    progress as (
        select pr.tenant_id, pr.watermark, pr.tenant_version
        from ops.aggregation_progress as pr
        where pr.mart = '{{ this.identifier }}'
    ),
{%- endmacro %}


{#- CTE `since`: the oldest watermark of a valid tenant, minus the lag. -#}
{% macro _sliding_window_since(lag) -%}
    since as (
        select coalesce(min(progress.watermark), '-infinity') - {{ lag }} as watermark
        from progress
        inner join valid on progress.tenant_id = valid.tenant_id
    ),
{%- endmacro %}


{#- The rows changed since the oldest watermark (minus the lag): the staging rows with a
    newer updated_at and the captured old versions (ops.raw_changes) of every event.
    Columns tenant_id, ts, key_value, follow_value, event_no, changed_at and one column
    per `carry` entry (name -> SQL type). Used inside sliding_window_prepare's WITH
    (needs its `since` CTE). -#}
{% macro _sliding_window_changed(spec, key, carry) -%}
        {%- for e in spec['events'] %}
        select
            ev.{{ e['tenant'] }} as tenant_id,
            ev.{{ e['ts'] }} as ts,
            {% if key %}ev.{{ e.get('key', key) }}{% else %}cast(null as bigint){% endif %} as key_value,
            {% if e.get('follow') %}ev.{{ e['follow'] }}{% else %}cast(null as bigint){% endif %} as follow_value,
            {{ loop.index }} as event_no,
            ev.updated_at as changed_at
            {%- for c, t in carry.items() %},
            {% if c in e.get('carry', {}) %}cast(ev.{{ c }} as {{ t }}){% else %}cast(null as {{ t }}){% endif %} as {{ c }}
            {%- endfor %}
        from {{ ref(e['model']) }} as ev
        where ev.updated_at > (select since.watermark from since)
        union all
        select
            cast(rc.old_row ->> '{{ e.get("raw_tenant", e["tenant"]) }}' as bigint) as tenant_id,
            cast(rc.old_row ->> '{{ e.get("raw_ts", e["ts"]) }}' as timestamptz) as ts,
            {% if key %}cast(rc.old_row ->> '{{ e.get("raw_key", e.get("key", key)) }}' as bigint){% else %}cast(null as bigint){% endif %} as key_value,
            {% if e.get('follow') %}cast(rc.old_row ->> '{{ e.get("raw_follow", e["follow"]) }}' as bigint){% else %}cast(null as bigint){% endif %} as follow_value,
            {{ loop.index }} as event_no,
            rc.captured_at as changed_at
            {%- for c, t in carry.items() %},
            {% if c in e.get('carry', {}) %}cast(rc.old_row ->> '{{ c }}' as {{ t }}){% else %}cast(null as {{ t }}){% endif %} as {{ c }}
            {%- endfor %}
        from ops.raw_changes as rc
        where rc.table_name = '{{ e["raw_table"] }}'
            and rc.captured_at > (select since.watermark from since)
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
{%- endmacro %}
