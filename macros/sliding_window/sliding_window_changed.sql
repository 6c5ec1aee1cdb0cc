{#- The change events since the oldest watermark (minus the lag), for every `events`
    entry: the staging rows with a newer updated_at and the captured old versions
    (ops.raw_changes). Columns tenant_id, ts, key_value, follow_value, event (the
    entry's `name`), changed_at and one column per `carry` entry (name -> SQL type).
    A SELECT for sliding_window_prepare's WITH (needs its `since` CTE). -#}
{% macro sliding_window_changed(spec, carry) -%}
        {%- set keyed = spec.key is not none or spec.bucket_key is not none -%}
        {%- for e in spec.events %}
        select
            ev.{{ e.tenant }} as tenant_id,
            ev.{{ e.ts }} as ts,
            {% if keyed %}ev.{{ e.key }}{% else %}cast(null as bigint){% endif %} as key_value,
            {% if e.follow %}ev.{{ e.follow }}{% else %}cast(null as bigint){% endif %} as follow_value,
            cast('{{ e.name }}' as {{ tally.text_type() }}) as event,
            ev.updated_at as changed_at
            {%- for c, t in carry.items() %},
            {% if c in e.carry %}cast(ev.{{ c }} as {{ t }}){% else %}cast(null as {{ t }}){% endif %} as {{ c }}
            {%- endfor %}
        from {{ ref(e.model) }} as ev
        where ev.updated_at > (select since.watermark from since)
        union all
        select
            {{ tally.sliding_window_old_field(e.raw_tenant, 'bigint') }} as tenant_id,
            {{ tally.sliding_window_old_field(e.raw_ts, 'timestamptz') }} as ts,
            {% if keyed %}{{ tally.sliding_window_old_field(e.raw_key, 'bigint') }}{% else %}cast(null as bigint){% endif %} as key_value,
            {% if e.follow %}{{ tally.sliding_window_old_field(e.raw_follow, 'bigint') }}{% else %}cast(null as bigint){% endif %} as follow_value,
            cast('{{ e.name }}' as {{ tally.text_type() }}) as event,
            rc.captured_at as changed_at
            {%- for c, t in carry.items() %},
            {% if c in e.carry %}{{ tally.sliding_window_old_field(c, t) }}{% else %}cast(null as {{ t }}){% endif %} as {{ c }}
            {%- endfor %}
        from {{ tally.raw_changes_relation() }} as rc
        where rc.table_name = '{{ e.raw_table }}'
            and rc.captured_at > (select since.watermark from since)
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
{%- endmacro %}


{#- A field of a captured old row (ops.raw_changes.old_row, jsonb), cast to `type`. -#}
{% macro sliding_window_old_field(field, type) -%}
    {{ return(adapter.dispatch('sliding_window_old_field', 'tally')(field, type)) }}
{%- endmacro %}

{% macro default__sliding_window_old_field(field, type) -%}
    {{ tally.not_implemented('sliding_window_old_field') }}
{%- endmacro %}

{#- jsonb ->> -#}
{% macro postgres__sliding_window_old_field(field, type) -%}
    cast(rc.old_row ->> '{{ field }}' as {{ type }})
{%- endmacro %}

{#- the old row is JSON text on Spark; PostgreSQL type names of `carry` map to Spark's -#}
{% macro spark__sliding_window_old_field(field, type) -%}
    cast(get_json_object(rc.old_row, '$.{{ field }}') as {{ {'timestamptz': 'timestamp', 'text': 'string'}.get(type, type) }})
{%- endmacro %}


{#- Where the old versions of changed and deleted raw rows are: PostgreSQL captures them
    with triggers (ops.raw_changes); Spark has no triggers, so the source writes them to
    raw.raw_changes, the same columns (docs/scale-out.md, "The deletion contract"). -#}
{% macro raw_changes_relation() -%}
    {{ return(adapter.dispatch('raw_changes_relation', 'tally')()) }}
{%- endmacro %}

{% macro default__raw_changes_relation() -%}
    {{ tally.not_implemented('raw_changes_relation') }}
{%- endmacro %}

{% macro postgres__raw_changes_relation() -%}
    ops.raw_changes
{%- endmacro %}

{% macro spark__raw_changes_relation() -%}
    raw.raw_changes
{%- endmacro %}


{#- Tick with `carry` events: the change events of every valid tenant since its own
    watermark, with the carried columns, kept as <model>__changed for the model's hooks
    (agg_campaign_recipient_totals' ledger: `where ch.event = 'campaign_recipients'`). -#}
{% macro sliding_window_changed_table(spec, carry, lag) %}
    {{ return(adapter.dispatch('sliding_window_changed_table', 'tally')(spec, carry, lag)) }}
{% endmacro %}

{% macro default__sliding_window_changed_table(spec, carry, lag) %}
    {{ tally.not_implemented('sliding_window_changed_table') }}
{% endmacro %}

{% macro postgres__sliding_window_changed_table(spec, carry, lag) -%}
    {%- set changed_table = this.identifier ~ '__changed' %}
    drop table if exists {{ changed_table }};
    create temporary table {{ changed_table }} on commit drop as
    {{ tally.sliding_window_base_ctes(spec) }}

    {{ tally.sliding_window_since(lag) }}

    changed as (
        {{ tally.sliding_window_changed(spec, carry) }}
    )

    select changed.*
    from changed
    inner join valid on changed.tenant_id = valid.tenant_id
    inner join progress on changed.tenant_id = progress.tenant_id
    where changed.changed_at > progress.watermark - {{ lag }};
    analyze {{ changed_table }};
{%- endmacro %}
