{#- on-run-end: one ops.model_failures row per incremental mart (tag sliding_window) that
    errored, or was skipped because a node it depends on failed, in this invocation: the
    mart, the invocation, when, and the first useful line of dbt's message. A mart whose
    failures are newer than its watermark and older than one tick interval is stalled
    (`tally health`, the `<mart>_not_stalled` asset check). Rows older than 30 days go. -#}
{% macro record_model_failures(results) %}
    {{ return(adapter.dispatch('record_model_failures', 'tally')(results)) }}
{% endmacro %}

{% macro default__record_model_failures(results) %}
    {{ tally.not_implemented('record_model_failures') }}
{% endmacro %}

{% macro postgres__record_model_failures(results) %}
    {%- if not execute or results is none -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set rows = [] -%}
    {%- for result in results -%}
        {%- set node = result.node -%}
        {%- if node.resource_type == 'model' and 'sliding_window' in node.tags
              and result.status in ('error', 'skipped') -%}
            {%- set lines = [] -%}
            {%- for line in (result.message or '').split('\n') -%}
                {%- set text = line.strip() -%}
                {%- if text and not text.startswith(('Database Error in', 'Runtime Error in', 'Compilation Error in', 'compiled code at')) -%}
                    {%- do lines.append(text) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if result.status == 'skipped' -%}
                {%- set error = 'skipped: a node it depends on failed in the same run' -%}
            {%- else -%}
                {%- set error = (lines[0] if lines else 'failed (no message)')[:500] -%}
            {%- endif -%}
            {%- do rows.append("('" ~ node.name ~ "', '" ~ invocation_id ~ "', '" ~ result.status ~ "', '"
                ~ error.replace("'", "''") ~ "', '" ~ (result.message or '')[:4000].replace("'", "''") ~ "')") -%}
        {%- endif -%}
    {%- endfor -%}
    delete from ops.model_failures where failed_at < now() - interval '30 days';
    {%- if rows %}
    insert into ops.model_failures (mart, invocation_id, status, error, message)
    values {{ rows | join(',\n        ') }}
    on conflict (mart, invocation_id) do nothing;
    {%- endif %}
{% endmacro %}
