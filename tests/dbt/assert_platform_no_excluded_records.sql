{#- Error: raw platform rows left out of every rollup (negative duration or credits,
    missing timestamp or user). The marts are still built without them. -#}
{{ config(severity='error') }}

select flagged.*
from {{ ref('int_platform__records_flagged') }} as flagged
where flagged.outcome = 'excluded'
