{#- The reader's index of agg_support_rollup_daily (post-hook): one member's metric over
    a range of days - `support_report` for one agent, inbox or team, and
    `support_summary`, which reads every member of an account by the same key - is one
    index range per (member, metric), answered from the index alone (`include` carries the
    measures). An index-only read needs the visibility map to be current, and the default
    autovacuum would vacuum a mart of millions of rows only after 20 % of it changed, so a
    full build also sets the mart's autovacuum to 1 % (a few hundred thousand rows at
    scale 100; ticks change thousands). Dispatched: postgres__ (index `include`, storage
    parameters); default__ is a no-op (an engine without secondary indexes reads the mart
    by its partitions). -#}
{% macro support_rollup_member_index() %}
    {{ return(adapter.dispatch('support_rollup_member_index', 'tally')()) }}
{% endmacro %}

{% macro default__support_rollup_member_index() %}
    select 1
{% endmacro %}

{% macro postgres__support_rollup_member_index() %}
    {{ tally.mart_index(
        'agg_support_rollup_daily_member_idx',
        '(account_id, dimension_type, dimension_id, metric, day_bucket)'
        ~ ' include (count, sum_value, sum_value_business_hours)') }};
    {%- if not is_incremental() %}
    alter table {{ this }} set (
        autovacuum_vacuum_scale_factor = 0.01,
        autovacuum_vacuum_insert_scale_factor = 0.01,
        autovacuum_analyze_scale_factor = 0.01
    )
    {%- endif %}
{% endmacro %}
