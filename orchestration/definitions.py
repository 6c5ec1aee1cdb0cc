"""The Tally code location: assembles assets, jobs, schedules, sensors and resources."""

from __future__ import annotations

import warnings

from dagster import BetaWarning, Definitions

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
)
