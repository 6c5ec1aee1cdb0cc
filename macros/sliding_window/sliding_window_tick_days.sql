{#- A tick's affected days (tenant_id, day_bucket, key_value), a SELECT over the
    `valid`, `progress` and `changed` CTEs:
    * the sliding window (spec window_days; none with 0), stretched back to the
      previous run if it was long ago (a gap between runs is caught up, never skipped);
    * for an event with `follow`: the later (with follow_earlier: every) buckets of
      each changed row's (key, follow) entity - one index lookup per changed row;
    * every local day (with a bucket key: every key's day) holding a row changed since
      the tenant's watermark. With a bucket key, a row (or old version) without a key
      is in no bucket: the key is part of the mart's grain and never NULL there (it
      used to stand for the whole day and overlapped a bucket_suffix mart's key days,
      issue 16 F1). -#}
{% macro sliding_window_tick_days(spec, lag) %}
    {{ return(adapter.dispatch('sliding_window_tick_days', 'tally')(spec, lag)) }}
{% endmacro %}

{% macro default__sliding_window_tick_days(spec, lag) %}
    {{ tally.not_implemented('sliding_window_tick_days') }}
{% endmacro %}

{% macro postgres__sliding_window_tick_days(spec, lag) -%}
        {%- set today = tally.local_today('valid.tz') -%}
        {%- if spec.window_days > 0 %}
        -- the sliding window, stretched back to the previous run if it was long ago
        select valid.tenant_id, cast(d as date) as day_bucket, cast(null as bigint) as key_value
        from valid
        left join progress on valid.tenant_id = progress.tenant_id
        cross join lateral generate_series(
            least(
                {{ today }} - {{ spec.window_days - 1 }},
                coalesce({{ tally.day_bucket('progress.watermark - ' ~ lag, 'valid.tz') }}, {{ today }})
            ),
            {{ today }},
            interval '1 day'
        ) as d
        union
        {%- endif %}
        {%- for e in spec.events if e.follow %}
        -- the later buckets of each changed row's (key, follow) entity (spec `follow`)
        select changed.tenant_id, {{ tally.day_bucket('later.ts', 'valid.tz') }} as day_bucket, changed.key_value
        from changed
        inner join valid on changed.tenant_id = valid.tenant_id
        inner join progress on changed.tenant_id = progress.tenant_id
        cross join lateral (
            select ev.{{ e.ts }} as ts
            from {{ ref(e.model) }} as ev
            where ev.{{ e.key }} = changed.key_value
                and ev.{{ e.follow }} = changed.follow_value
                and ev.{{ e.tenant }} = changed.tenant_id
                -- a row without a time is in no bucket (issue 16 F4)
                and ev.{{ e.ts }} is not null
                {%- if not e.follow_earlier %}
                and ev.{{ e.ts }} > changed.ts
                {%- endif %}
            offset 0
        ) as later
        where changed.event = '{{ e.name }}'
            and changed.ts is not null
            and changed.changed_at > progress.watermark - {{ lag }}
        union
        {%- endfor %}
        -- every local day (with a bucket key: every key's day) holding a row changed
        -- since this tenant's watermark
        select
            changed.tenant_id,
            {{ tally.day_bucket('changed.ts', 'valid.tz') }} as day_bucket,
            {% if spec.bucket_key %}changed.key_value{% else %}cast(null as bigint){% endif %} as key_value
        from changed
        inner join valid on changed.tenant_id = valid.tenant_id
        inner join progress on changed.tenant_id = progress.tenant_id
        where changed.ts is not null
            and changed.changed_at > progress.watermark - {{ lag }}
            {%- if spec.bucket_key %}
            and changed.key_value is not null
            {%- endif %}
{%- endmacro %}
