"""The Tally code location: the dbt assets, the cross-domain jobs and the resources here,
merged with each domain's own ``Definitions`` (``orchestration/<domain>/definitions.py``).

No module that builds a definition imports this one: the CLI (orchestration/runtime.py,
orchestration/commands) and ``dagster dev -m orchestration.definitions`` are its only readers.
"""

from __future__ import annotations

import warnings

from dagster import BetaWarning, Definitions, in_process_executor

from orchestration.assets.dbt import dbt_models, downstream_models, incremental_marts
from orchestration.assets.raw import raw_sources
from orchestration.assets.raw_checks import raw_indexes_present
from orchestration.commerce import definitions as commerce
from orchestration.health_schedule import health_check_job, health_schedule
from orchestration.jobs import materialize_all, raw_contract_check, tick
from orchestration.orders import definitions as orders
from orchestration.platform import definitions as platform
from orchestration.resources import RESOURCES
from orchestration.schedules import raw_contract_schedule, tick_schedule
from orchestration.snapshots import definitions as snapshots
from orchestration.support import definitions as support

# Binding resources to sensors re-creates them with `owners=None`, which Dagster 1.13
# reports as a beta parameter on every load; nothing here uses owners.
warnings.filterwarnings("ignore", message="Parameter `owners`", category=BetaWarning)

# `dagster dev -m orchestration.definitions` refuses a module with more than one
# Definitions object at its top level: the domains' stay in their modules, the core one in
# this function.


def _core() -> Definitions:
    return Definitions(
        assets=[*raw_sources, dbt_models, incremental_marts, downstream_models],
        asset_checks=[raw_indexes_present],
        jobs=[materialize_all, tick, health_check_job, raw_contract_check],
        schedules=[tick_schedule, health_schedule(), raw_contract_schedule],
        resources=RESOURCES,
        # Every job's steps run one after the other in the run worker (the UI's own asset
        # jobs and backfills too): a process per step only loads the definitions again
        # (5-7 s per step, seen in the orders_rebuild run log). Tally's jobs have no steps that
        # could run side by side on the 2 cores anyway: each is one dbt invocation after another.
        executor=in_process_executor,
    )


defs = Definitions.merge(
    _core(), orders.defs, support.defs, snapshots.defs, commerce.defs, platform.defs
)
