{#- Running totals per (organization, campaign, arm), one row per local day with a
    qualifying order: every measure of agg_order_daily and the customer-day-pair sums
    of agg_order_customer_day_pairs, accumulated from the campaign's first order day
    through day_bucket. A ranged report then reads two rows per arm (the last row on or
    before the range's end, the last row before its start) instead of every day:

      measure over [s, e]       = cum(e) - cum(s - 1)
      distinct customers        = cum_customer_days(e) - cum_customer_days(s - 1)
                                  - cum_returns(e) + cum_returns_from(s - 1) - spanning returns
      sum of squared per-customer revenue
                                = cum_revenue_product(e) - cum_revenue_product_from(s - 1)
                                  + spanning revenue products

    where "spanning" are the pairs of agg_order_customer_day_pairs with from_day < s and
    day_bucket > e (none when the range ends on the latest day). Derivation in
    docs/reader.md. cum(x) is the row with the largest day_bucket <= x (0 without one).

    Incremental from the earliest affected day of each campaign on. The per-day
    increment of day Y (orders, revenue, ..., customer days, returns by the later and by
    the earlier day of a pair, revenue products by either day) depends on the orders of
    Y and on the other order days of Y's customers, so a changed attribution affects its
    campaign-day and every other order day of the same customer in the campaign
    (sliding-window `follow` with `follow_earlier`; raw index (campaign_id, customer_id)).
    A run recomputes the order measures of those days from their rows; their pair
    measures are the day's old increment plus the changed customers' difference - the
    terms of each changed customer's campaign history now minus those of the history the
    mart was computed from (the customer-day ledger <mart>__customer_days, kept by the
    pre-hook: macros/orders/orders_running_ledger.sql) - instead of re-reading the
    history of every customer on those days. Every other day's increment comes from the
    mart's own rows (cum(day) - cum(previous row)), and each arm re-accumulates from its
    last row of the block before the campaign's earliest affected day; `bucket_replace`
    with `bucket_suffix` replaces the block's rows from that day on (rows whose values
    did not change are kept). Whole tenants (new, re-configured, rebuilt; every tenant
    in a backfill) are recomputed from their rows and their rebuilt ledger rows as in
    the full build. It does not ref the other order marts (see
    agg_campaign_recipient_totals). -#}
{%- set block_days = tally.orders_running_block_days() %}
{{ tally.orders_day_mart_config(
    unique_key=['organization_id', 'campaign_id', 'is_holdout', 'day_bucket'],
    follow='customer_id',
    follow_earlier=true,
    suffix=block_days,
    pre_hook="{{ tally.orders_running_ledger_refresh() }}",
    post_hook=[
        "{{ tally.orders_running_blocks_refresh() }}",
        "{{ tally.orders_running_totals_republish() }}",
    ],
) }}
-- depends_on: {{ ref('int_orders__organizations_validated') }}
-- depends_on: {{ ref('stg_orders__attributions') }}

{%- set full = tally.sliding_window_mode() == 'full' %}
{%- set qualified_relation = ref('int_orders__attributions_qualified') %}
{%- set counts = ['total_orders', 'first_purchase_orders', 'repeat_orders', 'subscription_orders',
                  'discount_matched_orders', 'new_subscribers', 'customer_days', 'returns', 'returns_from'] %}
{%- set amounts = ['revenue', 'first_purchase_revenue', 'repeat_revenue', 'subscription_revenue'] %}
{%- set products = ['revenue_product', 'revenue_product_from'] %}
{%- set measures = counts + amounts + products %}
{%- set types = {} %}
{%- for m in counts %}{% do types.update({m: 'bigint'}) %}{% endfor %}
{%- for m in amounts %}{% do types.update({m: 'numeric(18, 2)'}) %}{% endfor %}
{%- for m in products %}{% do types.update({m: 'numeric(38, 4)'}) %}{% endfor %}

with bucket_rows as (
    -- full build: every qualifying attribution; incremental: the affected buckets' rows
    -- (whole tenants: their whole history; key days: that campaign-day)
    select q.*
    from {{ tally.sliding_window_rows(
        qualified_relation, 'organization_id', 'ordered_at', scope_col='campaign_id', key_col='campaign_id'
    ) }} as q
),

{%- if not full %}

whole_tenants as (
    select sw.tenant_id
    from {{ tally.sliding_window_affected() }} as sw
    where sw.kind = 'tenant'
),

-- key days: the affected (organization, campaign, local day) buckets and, per
-- campaign and block, the first of them (rows from there to the block's end are replaced)
key_days as (
    select sw.tenant_id as organization_id, sw.key_value as campaign_id, sw.day_bucket
    from {{ tally.sliding_window_affected() }} as sw
    where sw.kind = 'key_day'
),

key_starts as (
    select
        key_days.organization_id,
        key_days.campaign_id,
        {{ tally.day_block_start('key_days.day_bucket', block_days) }} as block_start,
        min(key_days.day_bucket) as start_day
    from key_days
    group by 1, 2, 3
),
{%- endif %}

-- per customer day: the qualifying revenue (sign 1). Full build and whole tenants: from
-- their rows (whole histories). Tick: the changed customers' histories now (sign 1) and
-- as the mart was computed from them (sign -1, the ledger) - their terms' difference
customer_days as (
    -- the ledger (rebuilt by the pre-hook for the full build and whole tenants)
    select
        l.organization_id,
        l.campaign_id,
        l.is_holdout,
        l.customer_id,
        l.day_bucket,
        l.revenue,
        1 as sign
    from {{ tally.orders_running_ledger_relation() }} as l
    {%- if not full %}
    where l.organization_id in (select whole_tenants.tenant_id from whole_tenants)
        {%- if tally.sliding_window_scope() is not none %}
        and l.{{ tally.sliding_window_scope()[0] }} = {{ tally.sliding_window_scope()[1] }}
        {%- endif %}
    {%- endif %}
    {%- if tally.sliding_window_mode() == 'tick' %}
    {%- for table, sign in [('customer_days_new', 1), ('customer_days_old', -1)] %}
    union all
    select c.organization_id, c.campaign_id, c.is_holdout, c.customer_id, c.day_bucket, c.revenue, {{ sign }}
    from {{ this.identifier }}__{{ table }} as c
    {%- endfor %}
    {%- endif %}
),

-- per customer day: earlier/later order days and the revenue through / from the day
customer_steps as (
    select
        customer_days.*,
        lag(customer_days.day_bucket) over customer_days_w is not null as has_earlier,
        lead(customer_days.day_bucket) over customer_days_w is not null as has_later,
        sum(customer_days.revenue) over (
            customer_days_w rows between unbounded preceding and current row
        ) as revenue_through,
        sum(customer_days.revenue) over (
            customer_days_w rows between current row and unbounded following
        ) as revenue_from
    from customer_days
    window customer_days_w as (
        partition by
            customer_days.organization_id, customer_days.campaign_id,
            customer_days.is_holdout, customer_days.customer_id, customer_days.sign
        order by customer_days.day_bucket
    )
),

-- the pair sums of a day Y (see agg_order_customer_day_pairs) directly: per customer on Y
-- with revenue r, revenue R(<= Y) through Y and R(>= Y) from Y, the pairs (d, Y) sum to
-- r * (2 R(<= Y) - r) and the pairs (Y, d) to r * (2 R(>= Y) - r); a customer on Y is
-- one customer day, a return when it has an earlier day, and the earlier day of a
-- return when it has a later one. Tick: the changed customers' difference on the day.
pair_days as (
    select
        steps.organization_id,
        steps.campaign_id,
        steps.is_holdout,
        steps.day_bucket,
        sum(steps.sign) as customer_days,
        sum(steps.sign) filter (where steps.has_earlier) as returns,
        sum(steps.sign) filter (where steps.has_later) as returns_from,
        sum(steps.sign * steps.revenue * (2 * steps.revenue_through - steps.revenue)) as revenue_product,
        sum(steps.sign * steps.revenue * (2 * steps.revenue_from - steps.revenue)) as revenue_product_from
    from customer_steps as steps
    group by 1, 2, 3, 4
),

daily as (
    {{ tally._running_totals_daily('bucket_rows') }}
),

{%- if not full %}

-- the mart's rows of the key campaigns' blocks from their first affected day on ...
old_rows as (
    select t.*
    from {{ this }} as t
    inner join key_starts
        on t.organization_id = key_starts.organization_id
        and t.campaign_id = key_starts.campaign_id
        and t.day_bucket >= key_starts.start_day
        and t.day_bucket < key_starts.block_start + {{ block_days }}
),

-- ... and each arm's last row of the block before it: where the running totals resume
old_base as (
    select base.*
    from key_starts
    cross join (values (false), (true)) as arms (is_holdout)
    cross join lateral (
        select t.*
        from {{ this }} as t
        where t.organization_id = key_starts.organization_id
            and t.campaign_id = key_starts.campaign_id
            and t.is_holdout = arms.is_holdout
            and t.day_bucket >= key_starts.block_start
            and t.day_bucket < key_starts.start_day
        order by t.day_bucket desc
        limit 1
    ) as base
),

-- an unaffected day's increment is the difference of its row and the previous one
old_increments as (
    select
        old_rows.organization_id,
        old_rows.campaign_id,
        old_rows.is_holdout,
        old_rows.day_bucket,
        {%- for m in measures %}
        old_rows.cum_{{ m }} - coalesce(
            lag(old_rows.cum_{{ m }}) over arm_rows_w, old_base.cum_{{ m }}, 0
        ) as {{ m }}{{ ',' if not loop.last }}
        {%- endfor %}
    from old_rows
    left join old_base
        on old_rows.organization_id = old_base.organization_id
        and old_rows.campaign_id = old_base.campaign_id
        and old_rows.is_holdout = old_base.is_holdout
        and old_rows.block_start = old_base.block_start
    window arm_rows_w as (
        partition by old_rows.organization_id, old_rows.campaign_id, old_rows.is_holdout,
            old_rows.block_start
        order by old_rows.day_bucket
    )
),

{%- endif %}

-- the recomputed increments: every order day of the full build / a whole tenant, the
-- affected days of key campaigns (base_key: they resume from the mart's previous row) -
-- their order measures from their rows, their pair measures the day's old increment plus
-- the changed customers' difference
increments as (
    select
        daily.organization_id,
        daily.campaign_id,
        daily.is_holdout,
        daily.day_bucket,
        {%- for m in measures %}
        {%- if m in ['customer_days', 'returns', 'returns_from', 'revenue_product', 'revenue_product_from'] %}
        {%- if full %}
        coalesce(pair_days.{{ m }}, 0) as {{ m }},
        {%- else %}
        coalesce(old_increments.{{ m }}, 0) + coalesce(pair_days.{{ m }}, 0) as {{ m }},
        {%- endif %}
        {%- else %}
        daily.{{ m }},
        {%- endif %}
        {%- endfor %}
        {%- if full %}
        cast(null as bigint) as base_key
        {%- else %}
        case
            when daily.organization_id in (select whole_tenants.tenant_id from whole_tenants) then null
            else cast(1 as bigint)
        end as base_key
        {%- endif %}
    from daily
    -- every pair day is an order day of the arm
    left join pair_days
        on daily.organization_id = pair_days.organization_id
        and daily.campaign_id = pair_days.campaign_id
        and daily.is_holdout = pair_days.is_holdout
        and daily.day_bucket = pair_days.day_bucket
    {%- if not full %}
    -- (whole tenants have no old rows: they are not key campaigns)
    left join old_increments
        on daily.organization_id = old_increments.organization_id
        and daily.campaign_id = old_increments.campaign_id
        and daily.is_holdout = old_increments.is_holdout
        and daily.day_bucket = old_increments.day_bucket
    {%- endif %}
),

{%- if not full %}

all_increments as (
    select increments.* from increments
    union all
    -- the other days of key campaigns from their first affected day on: as they are
    select
        old_increments.organization_id,
        old_increments.campaign_id,
        old_increments.is_holdout,
        old_increments.day_bucket,
        {%- for m in measures %}
        old_increments.{{ m }},
        {%- endfor %}
        cast(1 as bigint) as base_key
    from old_increments
    where (old_increments.organization_id, old_increments.campaign_id, old_increments.day_bucket) not in (
        select key_days.organization_id, key_days.campaign_id, key_days.day_bucket from key_days
    )
),
{%- else %}

all_increments as (
    select increments.* from increments
),
{%- endif %}

blocked as (
    select
        all_increments.*,
        {{ tally.day_block_start('all_increments.day_bucket', block_days) }} as block_start
    from all_increments
),

final as (
    select
        blocked.organization_id,
        blocked.campaign_id,
        blocked.is_holdout,
        blocked.day_bucket,
        blocked.block_start,
        {%- for m in measures %}
        cast(
            {%- if not full %}coalesce(old_base.cum_{{ m }}, 0) + {% endif -%}
            sum(blocked.{{ m }}) over block_days as {{ types[m] }}
        ) as cum_{{ m }},
        {%- endfor %}
        {{ tally.lineage_columns() }}
    from blocked
    {%- if not full %}
    left join old_base
        on blocked.base_key is not null
        and blocked.organization_id = old_base.organization_id
        and blocked.campaign_id = old_base.campaign_id
        and blocked.is_holdout = old_base.is_holdout
        and blocked.block_start = old_base.block_start
    {%- endif %}
    window block_days as (
        partition by blocked.organization_id, blocked.campaign_id, blocked.is_holdout, blocked.block_start
        order by blocked.day_bucket
        rows between unbounded preceding and current row
    )
)

select * from final
