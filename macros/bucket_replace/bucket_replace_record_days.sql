{#- Record the days a bucket_replace write changed in ops.mart_days_written (mart,
    run_id = this invocation, day), in the write's own transaction: the run's partition
    marks (orchestration/partition_status.py) read them instead of scanning the mart for
    its run_id. `rows`: a select whose one column is the bucket value (bucket_column) of
    each row the write inserted, updated or deleted - a day whose rows were only deleted
    was changed by the run too; `ctes`: the data-modifying CTEs `rows` reads (a delete
    ... returning), executed whether or not a day is recorded. The day of a bucket:
    bucket_replace_day; a 'key' mart records nothing. -#}
{% macro bucket_replace_record_days(rows, ctes=none) %}
    {{ return(adapter.dispatch('bucket_replace_record_days', 'tally')(rows, ctes)) }}
{% endmacro %}

{% macro default__bucket_replace_record_days(rows, ctes=none) %}
    {{ tally.not_implemented('bucket_replace_record_days') }}
{% endmacro %}

{#- with ... (delete ... returning), on conflict do nothing (one write may record a day
    twice: its deleted and its inserted rows) -#}
{% macro postgres__bucket_replace_record_days(rows, ctes=none) %}
    {%- set day = tally.bucket_replace_day('w.bucket') -%}
    {%- if ctes %}
    with {{ ctes }}
    {%- endif %}
    {%- if day is none %}
    select 1
    {%- else %}
    insert into ops.mart_days_written (mart, run_id, day)
    select distinct '{{ this.identifier }}', '{{ invocation_id }}', {{ day }}
    from ({{ rows }}) as w (bucket)
    where w.bucket is not null
    on conflict do nothing
    {%- endif %}
{% endmacro %}
