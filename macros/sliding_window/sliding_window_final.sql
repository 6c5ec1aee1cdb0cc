{#- CTE `final`: the affected rows (kind, tenant_id, key_value, day_bucket, lo, hi) of
    the mode program's `whole`, `days` and `keys` CTEs (sliding_window_prepare).
    Whole tenants are `tenant` rows; key mode's keys `key` rows; days `day` rows, or
    `key_day` rows with a bucket key - [lo, hi) the local day's instants, so that a read
    is a range scan on the raw (tenant, ts) or (key, ts) index. Nothing inside a whole
    tenant is repeated, nor a key's day inside a `day` row of the same tenant and day:
    no row is read twice. -#}
{% macro sliding_window_final(spec) -%}
    final as (
        select
            cast('tenant' as text) as kind,
            whole.tenant_id,
            cast(null as bigint) as key_value,
            cast(null as date) as day_bucket,
            cast('-infinity' as timestamptz) as lo,
            cast('infinity' as timestamptz) as hi
        from whole
        union all
        {%- if spec.key %}
        select
            'key',
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
            case when days.key_value is null then 'day' else 'key_day' end,
            days.tenant_id,
            days.key_value,
            days.day_bucket,
            {{ tally.local_day_start('days.day_bucket', 'valid.tz') }} as lo,
            {{ tally.local_day_start('days.day_bucket + 1', 'valid.tz') }} as hi
        from (select distinct days.tenant_id, days.day_bucket, days.key_value from days) as days
        inner join valid on days.tenant_id = valid.tenant_id
        where days.tenant_id not in (select whole.tenant_id from whole)
            -- no day, no bucket (issue 16 F4: a NULL ordered_at row found by
            -- `follow_earlier`; the check constraint would refuse it)
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
{%- endmacro %}
