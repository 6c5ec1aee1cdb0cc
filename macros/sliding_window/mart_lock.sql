{#-
    The one lock of Tally's writers: a transaction-level advisory lock on the key
    `tally:<name>` (released at commit). Every run of a mart whose run reads its own
    rows or side tables (a ledger, running totals), of a platform mart (the retention
    cleanup moves its horizon under the same lock) and of metric_snapshots (tick,
    backfill and recompute replace the same buckets) takes it as its first pre-hook:
    a second run waits there until the first commits.

    The key is computed in SQL only, by ops.lock_key(name) (macros/ops/ensure_ops_schema.sql):
    Python locks the same way (`select pg_advisory_xact_lock(ops.lock_key(%s))`,
    orchestration/platform/cleanup.py), so there is one key scheme and no copy of it.
    `name`: default 'mart:<this model>'.
-#}
{% macro mart_lock(name=none) -%}
    {{ return(adapter.dispatch('mart_lock', 'tally')(name or ('mart:' ~ this.identifier))) }}
{%- endmacro %}

{% macro default__mart_lock(name) -%}
    {{ tally.not_implemented('mart_lock') }}
{%- endmacro %}

{#- advisory locks -#}
{% macro postgres__mart_lock(name) -%}
    select pg_advisory_xact_lock(ops.lock_key('{{ name }}'))
{%- endmacro %}
