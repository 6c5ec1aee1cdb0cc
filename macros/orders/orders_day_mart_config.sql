{#- The config of the order marts: bucket_replace on the orders sliding window, progress
    hooks, tag sliding_window. Two shapes:

      orders_day_mart_config       agg_order_daily, agg_order_customer_daily - buckets are
                                   (organization, campaign, local day) / (organization,
                                   local day) (bucket key campaign_id); with `follow`
                                   also the later days of a changed row's customer and
                                   no window days (agg_order_customer_day_pairs); with
                                   `follow_earlier` and `suffix` (N: block days) also the
                                   customer's earlier days, and rows are replaced from the
                                   earliest affected day of a campaign's block to the
                                   block's end (agg_order_running_totals)
      orders_campaign_mart_config  agg_campaign_recipient_totals - (organization,
                                   campaign) pairs (key mode); `pre_hook`: one more
                                   pre-hook after the window's (its ledger)

    `unique_key`: the mart's grain; `index_sql`: an optional reader index, created after
    every run (idempotent). -#}
{% macro orders_day_mart_config(unique_key, index_sql=none, follow=none, follow_earlier=false, suffix=false, pre_hook=none, post_hook=none) %}
{{ tally._orders_mart_config(unique_key, index_sql, 'day_bucket', 'day', none, follow, follow_earlier, suffix, pre_hook=pre_hook, post_hook=post_hook) }}
{% endmacro %}

{% macro orders_campaign_mart_config(unique_key, index_sql=none, pre_hook=none) %}
{{ tally._orders_mart_config(unique_key, index_sql, 'campaign_id', 'key', 'campaign_id', pre_hook=pre_hook) }}
{% endmacro %}

{% macro _orders_mart_config(unique_key, index_sql, bucket_column, bucket_kind, key, follow=none, follow_earlier=false, suffix=false, pre_hook=none, post_hook=none) %}
{%- if adapter.type() == 'spark' -%}
{#- Spark (macros/spark/): no lock, side tables or index; tag `spark` on the marts that
    run there: the day marts without follow or side tables, partitioned by the day
    bucket, and the key-mode mart (agg_campaign_recipient_totals), partitioned by
    organization and recomputed whole per affected organization - its ledger pre-hook
    is PostgreSQL's serving accelerator, not needed there. The others are
    PostgreSQL-only and say so when run. The YAML contract names PostgreSQL types
    (timestamptz, text): not enforced on Spark, where tests/test_spark.py checks the
    rows. -#}
{%- set by_day = key is none and follow is none and not follow_earlier and not suffix
    and pre_hook is none and post_hook is none -%}
{%- set pre_hooks = ["{{ tally.sliding_window_prepare() }}"] -%}
{%- set post_hooks = ["{{ tally.sliding_window_record() }}"] -%}
{%- set engine_config = tally.spark_mart_config(
    [bucket_column] if by_day else ['organization_id'], ['sliding_window'],
    by_day or (key is not none and post_hook is none)) -%}
{%- else -%}
{#- a mart that reads its own rows (ledger, running totals) runs one at a time -#}
{%- set lock = ["{{ tally.mart_lock() }}"] if (pre_hook is not none or post_hook is not none) else [] -%}
{%- set pre_hooks = lock + ["{{ tally.sliding_window_prepare() }}"] + ([pre_hook] if pre_hook is not none else []) -%}
{%- set extra_post = [] if post_hook is none else ([post_hook] if post_hook is string else post_hook) -%}
{%- set post_hooks = ["{{ tally.sliding_window_record() }}"] + extra_post -%}
{%- if index_sql is not none -%}
    {%- do post_hooks.append(index_sql) -%}
{%- endif -%}
{%- set engine_config = tally.spark_mart_config(tags=['sliding_window']) -%}
{%- endif -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='bucket_replace',
        on_schema_change='fail',
        unique_key=unique_key,
        bucket_column=bucket_column,
        bucket_kind=bucket_kind,
        sliding_window=tally.orders_sliding_window(key=key, follow=follow, follow_earlier=follow_earlier),
        bucket_suffix=suffix,
        pre_hook=pre_hooks,
        post_hook=post_hooks,
        **engine_config
    )
}}
{% endmacro %}


{#- In a pre/post-hook of an order mart that keeps side tables (ledgers, block table):
    stop when one is missing - built by an older release, its difference would have no
    base - naming the command that rebuilds it. -#}
{% macro orders_require_side_tables(relations, what) -%}
    {%- for relation in relations -%}
        {%- if load_relation(relation) is none -%}
            {{ exceptions.raise_compiler_error(this ~ " has no " ~ what ~ " (" ~ (relations | join(', '))
                ~ "; built from this release on): rebuild it once with `tally dbt -- run --full-refresh --select "
                ~ this.identifier ~ "`") }}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}


{#- In a hook of an order mart that keeps side tables: delete `table`'s rows of the
    whole tenants of the affected set (with a rebuild's campaign scope) - they are
    rebuilt next. -#}
{% macro orders_delete_whole_scopes(table) %}
    {{ return(adapter.dispatch('orders_delete_whole_scopes', 'tally')(table)) }}
{% endmacro %}

{% macro default__orders_delete_whole_scopes(table) %}
    {{ tally.not_implemented('orders_delete_whole_scopes') }}
{% endmacro %}

{% macro postgres__orders_delete_whole_scopes(table) -%}
    {%- set scope = tally.sliding_window_scope() -%}
    delete from {{ table }} as l
    using {{ tally.sliding_window_affected() }} as sw
    where l.organization_id = sw.tenant_id
        and sw.kind = 'tenant'
        {%- if scope is not none %}
        and l.{{ scope[0] }} = {{ scope[1] }}
        {%- endif %}
{%- endmacro %}
