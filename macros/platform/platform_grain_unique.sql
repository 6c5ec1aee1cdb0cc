{#- Generic test: no two rows share the same values of `columns` (a composite grain). -#}
{% test platform_grain_unique(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as n_rows
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
