{#- The sliding-window spec shared by the order marts (see docs/incremental.md).
    Day marts: affected buckets are (organization, campaign, local day) - bucket key
    campaign_id, read through the raw index on (campaign_id, ordered_at).
    `key` set: the affected set is (organization, campaign) instead of local days.
    `follow` set (e.g. 'customer_id', day marts only): a changed attribution also affects
    the later days of the same (campaign, customer) - raw index (campaign_id,
    customer_id) - and there are no window days (agg_order_customer_day_pairs);
    `follow_earlier`: also the customer's earlier days, and a backfill recomputes whole
    tenants (agg_order_running_totals). -#}
{% macro orders_sliding_window(key=none, follow=none, follow_earlier=false) %}
    {%- set spec = {
        'tenants': 'int_orders__organizations_validated',
        'tenant_id': 'organization_id',
        'timezone': 'aggregation_timezone',
        'version': 'config_version',
        'events': [
            {'model': 'stg_orders__attributions', 'tenant': 'organization_id', 'ts': 'ordered_at',
             'key': 'campaign_id', 'raw_table': 'attributions'},
        ],
        'rebuild_var': 'rebuild_organization_id',
        'scope_column': 'campaign_id',
        'scope_var': 'rebuild_campaign_id',
    } -%}
    {%- if key is none -%}
        {#- day marts: a changed attribution affects its (organization, campaign, day) -#}
        {%- do spec.update({'bucket_key': 'campaign_id'}) -%}
        {%- if follow is not none -%}
            {%- do spec['events'][0].update({'follow': follow, 'follow_earlier': follow_earlier}) -%}
            {%- do spec.update({'window_days': 0}) -%}
            {%- if follow_earlier -%}
                {#- running totals: every later day depends on the backfilled ones; the
                    changed rows' customers reach its ledger through <model>__changed -#}
                {%- do spec.update({'backfill_whole': true}) -%}
                {%- do spec['events'][0].update({'carry': {'customer_id': 'bigint'}}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- else -%}
        {#- key mode (agg_campaign_recipient_totals): the changed rows' customer and
            recipient - of attributions and of campaign_recipients (a recipient row
            added, removed or moved to the other arm changes who converted) - reach the
            model through <model>__changed (its ledger) -#}
        {%- do spec.update({'key': key}) -%}
        {%- do spec['events'][0].update({'carry': {'customer_id': 'bigint', 'recipient_id': 'bigint'}}) -%}
        {%- do spec['events'].append(
            {'model': 'stg_orders__campaign_recipients', 'tenant': 'organization_id', 'ts': 'sent_at',
             'key': 'campaign_id', 'raw_table': 'campaign_recipients',
             'carry': {'recipient_id': 'bigint'}}) -%}
    {%- endif -%}
    {{ return(spec) }}
{% endmacro %}
