{#- The read-only role SQL consumers and the report reader use: SELECT on marts
    (and reference), on the internal relations the reader reads (declared with
    meta.tally.reader: tally.grant_reader_internal), nothing else. Creating the role needs CREATEROLE; without it
    the grants are skipped with a notice instead of failing the run. -#}
{% macro grant_reader(schemas) %}
    {{ return(adapter.dispatch('grant_reader', 'tally')(schemas)) }}
{% endmacro %}

{% macro default__grant_reader(schemas) %}
    {{ tally.not_implemented('grant_reader') }}
{% endmacro %}

{% macro postgres__grant_reader(schemas) %}
    do $do$
    begin
        if not exists (select 1 from pg_roles where rolname = 'tally_reader') then
            begin
                create role tally_reader login;
            exception when insufficient_privilege then
                raise notice 'tally: cannot create role tally_reader (needs CREATEROLE); grants skipped';
                return;
            end;
        end if;
        begin
            -- a runaway report query cannot hold the database (the reader overrides it
            -- with TALLY_READER_STATEMENT_TIMEOUT when it sets its password)
            alter role tally_reader set statement_timeout = '120s';
        exception when insufficient_privilege then
            raise notice 'tally: cannot set tally_reader''s statement_timeout';
        end;
        grant usage on schema marts, reference to tally_reader;
        grant select on all tables in schema marts to tally_reader;
        grant select on all tables in schema reference to tally_reader;
        alter default privileges in schema marts grant select on tables to tally_reader;
        alter default privileges in schema reference grant select on tables to tally_reader;
        {{ tally.grant_reader_internal() }}
        {{ tally.grant_reader_extra() }}
    end
    $do$;
{% endmacro %}

{#- Extra, column-level grants on raw for the reader's raw path (see docs/reader.md). -#}
{% macro grant_reader_extra() %}
        {#- snapshot reader (orchestration/reader/snapshots.py): its cache is dropped when a
            newer recompute run completed for the range, so it reads these run columns -#}
        grant usage on schema ops to tally_reader;
        grant select (id, status, date_from, date_to, reports, windows, finished_at)
            on ops.recompute_runs to tally_reader;
        {#- campaign reader: the dbt views that hold the business rules (qualifying
            attributions, validated organization config) - its live tail and excluded-
            recipient corrections read them instead of restating the rules over raw -#}
        if to_regclass('intermediate.int_orders__attributions_qualified') is not null
            and to_regclass('intermediate.int_orders__organizations_validated') is not null then
            grant usage on schema intermediate to tally_reader;
            grant select on intermediate.int_orders__attributions_qualified,
                intermediate.int_orders__organizations_validated to tally_reader;
        end if;
        {#- campaign reader (orchestration/reader/campaigns.py): exactly the raw columns its
            raw path (the oracle) reads; skipped while raw is absent -#}
        if to_regclass('raw.organizations') is not null then
            grant usage on schema raw to tally_reader;
            grant select (id, reporting_timezone, configuration) on raw.organizations to tally_reader;
        end if;
        if to_regclass('raw.campaigns') is not null then
            grant select (id, organization_id, name) on raw.campaigns to tally_reader;
        end if;
        if to_regclass('raw.campaign_recipients') is not null then
            grant select (organization_id, campaign_id, recipient_id, is_holdout)
                on raw.campaign_recipients to tally_reader;
        end if;
        if to_regclass('raw.attributions') is not null then
            grant select (organization_id, campaign_id, recipient_id, customer_id, order_value,
                attribution_type, is_holdout, is_first_purchase, is_subscription, discount_matched,
                is_new_subscriber, passes_rules, archived, ordered_at)
                on raw.attributions to tally_reader;
        end if;
        {#- support reader (orchestration/reader/support.py): the raw columns its fallback
            path and its account/agent/inbox validation read; skipped while raw is absent -#}
        if to_regclass('raw.reporting_events') is not null then
            grant usage on schema raw to tally_reader;
            grant select (account_id, name, value, value_in_business_hours, user_id, inbox_id,
                conversation_id, created_at)
                on raw.reporting_events to tally_reader;
        end if;
        if to_regclass('raw.accounts') is not null then
            grant select (id, reporting_timezone) on raw.accounts to tally_reader;
        end if;
        if to_regclass('raw.agents') is not null then
            grant select (id, account_id) on raw.agents to tally_reader;
        end if;
        if to_regclass('raw.inboxes') is not null then
            grant select (id, account_id) on raw.inboxes to tally_reader;
        end if;
        -- support reader, issue 18: conversations, messages, teams and labels (raw path,
        -- team and label validation)
        if to_regclass('raw.conversations') is not null then
            grant select (id, account_id, inbox_id, assignee_id, team_id, created_at)
                on raw.conversations to tally_reader;
        end if;
        if to_regclass('raw.messages') is not null then
            grant select (conversation_id, account_id, inbox_id, message_type, created_at)
                on raw.messages to tally_reader;
        end if;
        if to_regclass('raw.teams') is not null then
            grant select (id, account_id) on raw.teams to tally_reader;
        end if;
        if to_regclass('raw.labels') is not null then
            grant select (id, account_id, title) on raw.labels to tally_reader;
        end if;
        if to_regclass('raw.conversation_labels') is not null then
            grant select (conversation_id, label_id) on raw.conversation_labels to tally_reader;
        end if;
        -- support reader: the timezone each account's rollup was last built in
        if to_regclass('ops.aggregation_progress') is not null then
            grant usage on schema ops to tally_reader;
            grant select (mart, tenant_id, tenant_version) on ops.aggregation_progress to tally_reader;
        end if;
        -- support reader: the per-account read-path switch (orchestration/support/read_path.py)
        if to_regclass('ops.support_read_path') is not null then
            grant usage on schema ops to tally_reader;
            grant select (account_id, read_from, reason) on ops.support_read_path to tally_reader;
        end if;
{% endmacro %}
