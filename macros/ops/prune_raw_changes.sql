{#- Bounds ops.raw_changes (deletion capture, ensure_change_capture.sql). A tick reads the
    captured old rows of a raw table newer than its tenant's watermark minus
    `watermark_lag_minutes` (sliding_window_prepare), so a row captured before the oldest
    watermark of every mart that reads that table, minus the lag, is never read again:
    this on-run-end hook deletes those rows after every dbt invocation (the tick, run by
    the CLI, the schedule, the Launchpad or a sensor alike).

    The consumers of a raw table are the sliding-window models of the graph whose events
    name it (`raw_table`); their watermarks are every row of ops.aggregation_progress,
    valid tenants or not (a tenant whose configuration broke keeps its old watermark, and
    reads the changes since then when fixed). A mart without progress rows reads no
    change (its tenants are new: rebuilt whole). A captured table no model names (emails
    today) is held to the oldest watermark of every sliding-window model. No watermark at
    all: nothing is pruned. -#}
{% macro prune_raw_changes() %}
    {{ return(adapter.dispatch('prune_raw_changes', 'tally')()) }}
{% endmacro %}

{% macro default__prune_raw_changes() %}
    {{ tally.not_implemented('prune_raw_changes') }}
{% endmacro %}

{% macro postgres__prune_raw_changes() %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set pairs = tally._raw_change_consumers() -%}
    {%- if not pairs -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set lag = "interval '" ~ tally.run_var('watermark_lag_minutes') ~ " minutes'" %}
    with consumers (table_name, mart) as (
        values
        {%- for table_name, mart in pairs %}
            ('{{ table_name }}', '{{ mart }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ),

    horizon as (
        select consumers.table_name, min(pr.watermark) - {{ lag }} as prune_before
        from consumers
        inner join ops.aggregation_progress as pr on consumers.mart = pr.mart
        group by consumers.table_name
    )

    delete from ops.raw_changes as rc
    using horizon
    where rc.table_name = horizon.table_name
        and rc.captured_at < horizon.prune_before
{% endmacro %}

{#- (raw table, mart) for every captured raw table and every sliding-window model whose
    events read it; a captured table no model names gets every sliding-window model. -#}
{% macro _raw_change_consumers() %}
    {%- set named = {} -%}
    {%- set marts = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- set spec = node.config.get('sliding_window') -%}
        {%- if spec is mapping -%}
            {%- set mart = node.alias or node.name -%}
            {%- do marts.append(mart) -%}
            {%- set events = spec.get('events') or [] -%}
            {%- for e in (events.values() if events is mapping else events) -%}
                {%- if e is mapping and e.get('raw_table') -%}
                    {%- do named.setdefault(e['raw_table'], []).append(mart) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set tables = var('change_capture_tables', tally.change_capture_tables()) | list -%}
    {%- for t in named if t not in tables -%}{%- do tables.append(t) -%}{%- endfor -%}
    {%- set pairs = [] -%}
    {%- for t in tables -%}
        {%- for mart in named.get(t, marts) -%}
            {%- do pairs.append((t, mart)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(pairs) }}
{% endmacro %}
