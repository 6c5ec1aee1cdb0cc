{#- Which target rows (alias t) an affected row (alias sw) covers: one join condition
    per kind of affected row, each on the columns of an index of the mart.

      tenant    every row of the tenant (a scoped rebuild: of the scope)
      day       bucket_kind 'day': the tenant's rows of that day - with bucket_suffix
                `>=` the day: the day and every later one (true), or the later days of
                its N-day block (N, tally.day_block_start): running totals
      key_day   the same for one key (spec bucket_key)
      key       bucket_kind 'key': the tenant's rows of that key
      day/range bucket_kind 'instant': the rows with lo <= bucket_column < hi -#}
{% macro bucket_replace_branches() %}
    {%- set spec = tally.sliding_window_spec() -%}
    {%- set tenant = 't.' ~ config.get('tenant_column', spec.tenant_id) ~ ' = sw.tenant_id' -%}
    {%- set bucket = 't.' ~ config.get('bucket_column', 'day_bucket') -%}
    {%- set bucket_kind = config.get('bucket_kind', 'day') -%}
    {%- set suffix = config.get('bucket_suffix', false) -%}
    {%- set block = suffix if (suffix is number and suffix is not sameas true) else none -%}
    {%- set scope = tally.sliding_window_scope() -%}
    {%- set in_scope = (' and t.' ~ scope[0] ~ ' = ' ~ scope[1]) if scope is not none else '' -%}
    {%- set day_op = ' >= ' if suffix else ' = ' -%}
    {%- set block_end = (' and ' ~ bucket ~ ' < ' ~ tally.day_block_start('sw.day_bucket', block) ~ ' + ' ~ block) if block else '' -%}
    {%- set branches = [tenant ~ " and sw.kind = 'tenant'" ~ in_scope] -%}
    {%- if bucket_kind == 'day' -%}
        {%- do branches.append(tenant ~ ' and ' ~ bucket ~ day_op ~ 'sw.day_bucket' ~ block_end ~ " and sw.kind = 'day'" ~ in_scope) -%}
        {%- if spec.bucket_key -%}
            {%- do branches.append(tenant ~ ' and t.' ~ spec.bucket_key ~ ' = sw.key_value and ' ~ bucket ~ day_op
                ~ 'sw.day_bucket' ~ block_end ~ " and sw.kind = 'key_day'") -%}
        {%- endif -%}
    {%- elif bucket_kind == 'key' -%}
        {%- do branches.append(tenant ~ ' and ' ~ bucket ~ " = sw.key_value and sw.kind = 'key'" ~ in_scope) -%}
    {%- else -%}
        {%- do branches.append(tenant ~ " and sw.kind <> 'tenant' and " ~ bucket ~ ' >= sw.lo and ' ~ bucket ~ ' < sw.hi' ~ in_scope) -%}
    {%- endif -%}
    {{ return(branches) }}
{% endmacro %}
