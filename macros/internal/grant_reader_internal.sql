{#- Part of tally.grant_reader's DO block: the reader's SELECT on the internal relations
    it reads (meta.tally.reader in their declaration) and on nothing else there. The
    revokes matter once: tables moved from marts (tally.ensure_internal_schema) carry the
    SELECT that marts' default privileges gave them. -#}
{% macro grant_reader_internal() %}
    {{ return(adapter.dispatch('grant_reader_internal', 'tally')()) }}
{% endmacro %}

{% macro default__grant_reader_internal() %}
    {{ tally.not_implemented('grant_reader_internal') }}
{% endmacro %}

{% macro postgres__grant_reader_internal() %}
        {%- set internal = tally.internal_schema() %}
        if exists (select 1 from pg_namespace where nspname = '{{ internal }}') then
            grant usage on schema {{ internal }} to tally_reader;
            {%- for item in tally.internal_relations() %}
            if to_regclass('{{ internal }}.{{ item.identifier }}') is not null then
                {%- if item.reader %}
                grant select on {{ internal }}.{{ item.identifier }} to tally_reader;
                {%- else %}
                revoke all on {{ internal }}.{{ item.identifier }} from tally_reader;
                {%- endif %}
            end if;
            {%- endfor %}
        end if;
{% endmacro %}
