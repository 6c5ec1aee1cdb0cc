{#- The read-only role SQL consumers and the report reader use: SELECT on marts
    (and reference), nothing else. Creating the role needs CREATEROLE; without it
    the grants are skipped with a notice instead of failing the run. -#}
{% macro grant_reader(schemas) %}
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
        grant usage on schema marts, reference to tally_reader;
        grant select on all tables in schema marts to tally_reader;
        grant select on all tables in schema reference to tally_reader;
        alter default privileges in schema marts grant select on tables to tally_reader;
        alter default privileges in schema reference grant select on tables to tally_reader;
        {{ tally.grant_reader_extra() }}
    end
    $do$;
{% endmacro %}

{#- Extra, column-level grants on raw for the reader's raw path (see docs/reader.md). -#}
{% macro grant_reader_extra() %}
{% endmacro %}
