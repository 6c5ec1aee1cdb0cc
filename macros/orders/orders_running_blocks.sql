{#-
    agg_order_running_totals accumulates within blocks of orders_running_block_days()
    (28) local days counted from Monday 2001-01-01 (tally.day_block_start): cum_* of a
    row sums the arm's days from its block_start through day_bucket. A late change then
    rewrites the rows of its block from the changed day on - at most 27 later days -
    instead of every later row of the campaign, so a tick's cost follows the changed
    days, not the history behind them.

        <mart>__blocks (organization_id, campaign_id, is_holdout, block_start,
                        total_<m>, base_<m> for every measure m)

    one row per arm and block holding an order day: total_<m> = the block's sum (its
    last row's cum_<m>), base_<m> = the sum of every earlier block. The running total
    since the campaign's first day through a row is base_<m> + cum_<m> of that row
    (the reader's two probes per arm, docs/reader.md).

    Kept by the mart's post-hook in the same transaction: the totals of every affected
    (campaign, block) are re-read from the block's last row (one probe per arm), whole
    tenants (and a rebuild's campaign) are rebuilt from the mart, and the bases of every
    touched campaign are re-summed over its block rows (one row per 28 days). Full
    build: rebuilt from the mart.
-#}

{% macro orders_running_block_days() -%}
    {{ return(28) }}
{%- endmacro %}


{% macro orders_running_blocks_relation() -%}
    {{ return(tally.internal_relation(this.identifier ~ '__blocks')) }}
{%- endmacro %}


{#- The measures the blocks carry (the mart's cum_* columns without the prefix). -#}
{% macro orders_running_measures() -%}
    {{ return(['total_orders', 'first_purchase_orders', 'repeat_orders', 'subscription_orders',
               'discount_matched_orders', 'new_subscribers', 'customer_days', 'returns', 'returns_from',
               'revenue', 'first_purchase_revenue', 'repeat_revenue', 'subscription_revenue',
               'revenue_product', 'revenue_product_from']) }}
{%- endmacro %}


{#- The SQL type of measure `m` (as the mart's cum_<m>). -#}
{% macro orders_running_type(m) -%}
    {%- if m.startswith('revenue_product') -%}numeric(38, 4)
    {%- elif 'revenue' in m -%}numeric(18, 2)
    {%- else -%}bigint
    {%- endif -%}
{%- endmacro %}


{#- Block rows (totals only, bases 0) from the last mart row of each (arm, block) of
    `rows_sql` (a SELECT of mart rows). -#}
{% macro postgres__orders_block_totals(rows_sql) -%}
    {%- set measures = tally.orders_running_measures() -%}
    select distinct on (t.organization_id, t.campaign_id, t.is_holdout, t.block_start)
        t.organization_id, t.campaign_id, t.is_holdout, t.block_start,
        {%- for m in measures %}
        t.cum_{{ m }} as total_{{ m }},
        {%- endfor %}
        {%- for m in measures %}
        t.cum_{{ m }} - t.cum_{{ m }} as base_{{ m }}{{ ',' if not loop.last }}
        {%- endfor %}
    from ({{ rows_sql }}) as t
    order by t.organization_id, t.campaign_id, t.is_holdout, t.block_start, t.day_bucket desc
{%- endmacro %}


{% macro orders_running_blocks_refresh() %}
    {{ return(adapter.dispatch('orders_running_blocks_refresh', 'tally')()) }}
{% endmacro %}

{% macro default__orders_running_blocks_refresh() %}
    {{ tally.not_implemented('orders_running_blocks_refresh') }}
{% endmacro %}

{% macro postgres__orders_running_blocks_refresh() %}
    {%- if not execute -%}
        select 1
    {%- else -%}
    {%- set blocks = tally.orders_running_blocks_relation() -%}
    {%- set measures = tally.orders_running_measures() -%}
    {%- set days = tally.orders_running_block_days() -%}
    {%- set mode = tally.sliding_window_mode() -%}
    {%- if mode == 'full' %}
    -- cascade: the view marts.agg_order_running_totals reads it (dbt recreates the view)
    drop table if exists {{ blocks }} cascade;
    create table {{ blocks }} as
    select
        b.organization_id, b.campaign_id, b.is_holdout, b.block_start,
        {%- for m in measures %}
        b.total_{{ m }},
        {%- endfor %}
        {%- for m in measures %}
        cast(coalesce(sum(b.total_{{ m }}) over earlier, 0) as {{ tally.orders_running_type(m) }})
            as base_{{ m }}{{ ',' if not loop.last }}
        {%- endfor %}
    from ({{ tally.postgres__orders_block_totals('select * from ' ~ this) }}) as b
    window earlier as (
        partition by b.organization_id, b.campaign_id, b.is_holdout
        order by b.block_start
        rows between unbounded preceding and 1 preceding
    );
    alter table {{ blocks }} add primary key (organization_id, campaign_id, is_holdout, block_start);
    analyze {{ blocks }}
    {%- else -%}
    {{- tally.orders_require_side_tables([blocks], 'block table') -}}
    {%- set affected = tally.sliding_window_affected() -%}
    {%- set scope = tally.sliding_window_scope() -%}
    {%- set prefix = this.identifier ~ '__' %}
    -- the (campaign, block)s of affected key days
    create temporary table {{ prefix }}touched_blocks on commit drop as
    select distinct sw.tenant_id, sw.key_value, {{ tally.day_block_start('sw.day_bucket', days) }} as block_start
    from {{ affected }} as sw
    where sw.kind = 'key_day';
    -- whole tenants (optionally one campaign of a rebuild)
    {{ tally.orders_delete_whole_scopes(blocks) }};
    insert into {{ blocks }}
    {{ tally.postgres__orders_block_totals(
        'select t.* from ' ~ affected ~ ' as sw inner join ' ~ this ~ ' as t on t.organization_id = sw.tenant_id'
        ~ " where sw.kind = 'tenant'"
        ~ (' and t.' ~ scope[0] ~ ' = ' ~ scope[1] if scope is not none else '')) }};
    -- affected blocks of key campaigns: the totals of the block's last row per arm
    delete from {{ blocks }} as b
    using {{ prefix }}touched_blocks as tb
    where b.organization_id = tb.tenant_id
        and b.campaign_id = tb.key_value
        and b.block_start = tb.block_start;
    insert into {{ blocks }}
    {{ tally.postgres__orders_block_totals(
        'select last.* from ' ~ prefix ~ 'touched_blocks as tb cross join (values (false), (true)) as arms (is_holdout)'
        ~ ' cross join lateral (select t.* from ' ~ this ~ ' as t where t.organization_id = tb.tenant_id'
        ~ ' and t.campaign_id = tb.key_value and t.is_holdout = arms.is_holdout'
        ~ ' and t.day_bucket >= tb.block_start and t.day_bucket < tb.block_start + ' ~ days
        ~ ' order by t.day_bucket desc limit 1) as last') }};
    -- every touched campaign's bases: the sums of its earlier blocks
    with campaigns as (
        select distinct tb.tenant_id, tb.key_value from {{ prefix }}touched_blocks as tb
        union
        select distinct b.organization_id, b.campaign_id
        from {{ affected }} as sw
        inner join {{ blocks }} as b on b.organization_id = sw.tenant_id
        where sw.kind = 'tenant'
            {%- if scope is not none %}
            and b.{{ scope[0] }} = {{ scope[1] }}
            {%- endif %}
    ),

    rebased as (
        select
            b.organization_id, b.campaign_id, b.is_holdout, b.block_start,
            {%- for m in measures %}
            cast(coalesce(sum(b.total_{{ m }}) over earlier, 0) as {{ tally.orders_running_type(m) }})
                as base_{{ m }}{{ ',' if not loop.last }}
            {%- endfor %}
        from campaigns
        inner join {{ blocks }} as b
            on b.organization_id = campaigns.tenant_id
            and b.campaign_id = campaigns.key_value
        window earlier as (
            partition by b.organization_id, b.campaign_id, b.is_holdout
            order by b.block_start
            rows between unbounded preceding and 1 preceding
        )
    )

    update {{ blocks }} as b
    set
        {%- for m in measures %}
        base_{{ m }} = rebased.base_{{ m }}{{ ',' if not loop.last }}
        {%- endfor %}
    from rebased
    where b.organization_id = rebased.organization_id
        and b.campaign_id = rebased.campaign_id
        and b.is_holdout = rebased.is_holdout
        and b.block_start = rebased.block_start
        and ({% for m in measures %}b.base_{{ m }}{{ ', ' if not loop.last }}{% endfor %})
            is distinct from ({% for m in measures %}rebased.base_{{ m }}{{ ', ' if not loop.last }}{% endfor %})
    {%- endif -%}
    {%- endif -%}
{% endmacro %}
