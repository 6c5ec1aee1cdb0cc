"""The Tally code location: assembles assets, jobs, schedules, sensors and resources."""

from __future__ import annotations

import warnings

from dagster import BetaWarning, Definitions, in_process_executor

from orchestration.assets.dbt import dbt_models, downstream_models, incremental_marts
from orchestration.assets.raw import raw_sources
from orchestration.jobs import JOBS
from orchestration.resources import RESOURCES
from orchestration.schedules import SCHEDULES
from orchestration.sensors import SENSORS

# Binding resources to sensors re-creates them with `owners=None`, which Dagster 1.13
# reports as a beta parameter on every load; nothing here uses owners.
warnings.filterwarnings("ignore", message="Parameter `owners`", category=BetaWarning)

defs = Definitions(
    assets=[*raw_sources, dbt_models, incremental_marts, downstream_models],
    jobs=JOBS,
    schedules=SCHEDULES,
    sensors=SENSORS,
    resources=RESOURCES,
    # Every job's steps run one after the other in the run worker (the UI's own asset
    # jobs and backfills too): a process per step only loads the definitions again
    # (5-7 s per step, seen in the orders_rebuild run log). Tally's jobs have no steps that
    # could run side by side on the 2 cores anyway: each is one dbt invocation after another.
    executor=in_process_executor,
)
