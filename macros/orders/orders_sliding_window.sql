{#- The sliding-window spec of the order marts (docs/incremental.md), written out whole
    per shape - no later update - and checked by tally.sliding_window_spec:

    * day marts (`key` none): buckets are (organization, campaign, local day) - bucket
      key campaign_id, read through the raw index on (campaign_id, ordered_at);
      `follow` (e.g. 'customer_id'): a changed attribution also affects the later days
      of the same (campaign, customer) - raw index (campaign_id, customer_id) - and
      there are no window days (agg_order_customer_day_pairs); `follow_earlier`: also
      the customer's earlier days, a backfill recomputes whole tenants and the changed
      rows' customers reach the ledger through <model>__changed (agg_order_running_totals);
    * key mode (`key` set, agg_campaign_recipient_totals): the affected set is
      (organization, campaign); the changed rows' customer and recipient - of
      attributions and of campaign_recipients (a recipient row added, removed or moved
      to the other arm changes who converted) - reach its ledger through
      <model>__changed, told apart by the event names `attributions` and
      `campaign_recipients`. -#}
{% macro orders_sliding_window(key=none, follow=none, follow_earlier=false) %}
    {%- set running = key is none and follow is not none and follow_earlier -%}
    {%- set attributions = {
        'name': 'attributions',
        'model': 'stg_orders__attributions', 'tenant': 'organization_id', 'ts': 'ordered_at',
        'key': 'campaign_id', 'raw_table': 'attributions',
        'follow': follow if key is none else none,
        'follow_earlier': follow_earlier if key is none else false,
        'carry': {'customer_id': 'bigint', 'recipient_id': 'bigint'} if key is not none
            else ({'customer_id': 'bigint'} if running else {}),
    } -%}
    {%- set campaign_recipients = {
        'name': 'campaign_recipients',
        'model': 'stg_orders__campaign_recipients', 'tenant': 'organization_id', 'ts': 'sent_at',
        'key': 'campaign_id', 'raw_table': 'campaign_recipients',
        'carry': {'recipient_id': 'bigint'},
    } -%}
    {{ return({
        'tenants': 'int_orders__organizations_validated',
        'tenant_id': 'organization_id',
        'timezone': 'aggregation_timezone',
        'version': 'config_version',
        'events': [attributions] + ([campaign_recipients] if key is not none else []),
        'rebuild_var': 'rebuild_organization_id',
        'scope_column': 'campaign_id',
        'scope_var': 'rebuild_campaign_id',
        'key': key,
        'bucket_key': 'campaign_id' if key is none else none,
        'window_days': 0 if (key is none and follow is not none) else none,
        'backfill_whole': running,
    }) }}
{% endmacro %}
