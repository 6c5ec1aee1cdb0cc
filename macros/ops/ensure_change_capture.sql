{#- Deletion capture. A hard-deleted raw row leaves no `updated_at` behind, so the
    sliding window cannot see which bucket lost it. Tally installs one statement-level
    trigger per event table that copies the *old* version of deleted and updated rows
    into `ops.raw_changes`; the sliding window reads their buckets from there.
    Statement-level with transition tables: one insert per statement, not per row.
    A session can opt out (retention cleanup does) with `set local tally.capture = 'off'`. -#}
{% macro ensure_change_capture() %}
    {{ return(adapter.dispatch('ensure_change_capture', 'tally')()) }}
{% endmacro %}

{% macro default__ensure_change_capture() %}
    {{ tally.not_implemented('ensure_change_capture') }}
{% endmacro %}

{% macro postgres__ensure_change_capture() %}
    create table if not exists ops.raw_changes (
        id bigint generated always as identity primary key,
        table_name text not null,
        operation text not null,
        old_row jsonb not null,
        captured_at timestamptz not null default clock_timestamp()
    );
    create index if not exists raw_changes_table_captured_idx
        on ops.raw_changes (table_name, captured_at);

    create or replace function ops.capture_raw_changes() returns trigger
    language plpgsql as $fn$
    begin
        if coalesce(current_setting('tally.capture', true), 'on') = 'off' then
            return null;
        end if;
        insert into ops.raw_changes (table_name, operation, old_row)
        select tg_table_name, tg_op, to_jsonb(o) from old_rows as o;
        return null;
    end
    $fn$;

    do $do$
    declare
        t text;
    begin
        foreach t in array array[{% for t in var('change_capture_tables', tally.change_capture_tables()) %}'{{ t }}'{{ ',' if not loop.last }}{% endfor %}]
        loop
            if to_regclass('raw.' || t) is not null then
                execute format(
                    'create or replace trigger tally_capture_delete after delete on raw.%I '
                    'referencing old table as old_rows for each statement '
                    'execute function ops.capture_raw_changes()', t);
                execute format(
                    'create or replace trigger tally_capture_update after update on raw.%I '
                    'referencing old table as old_rows for each statement '
                    'execute function ops.capture_raw_changes()', t);
            end if;
        end loop;
    end
    $do$;
{% endmacro %}

{% macro change_capture_tables() %}
    {{ return(['attributions', 'campaign_recipients', 'reporting_events', 'analytics_events',
               'orders', 'emails', 'executions', 'user_activity', 'messages', 'conversations']) }}
{% endmacro %}


{#- `dbt run-operation install_change_capture --target postgres`: the ops schema with the
    raw tables' change capture, without a build - for a source database whose rows
    another engine reads (`tally spark load` copies ops.raw_changes to Spark's change
    feed). -#}
{% macro install_change_capture() %}
    {%- do run_query(tally.ensure_ops_schema()) -%}
{% endmacro %}
