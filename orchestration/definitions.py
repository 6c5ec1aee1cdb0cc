"""The Tally code location: assembles assets, jobs, schedules, sensors and resources."""

from __future__ import annotations

from dagster import Definitions

from orchestration.assets.dbt import dbt_models, downstream_models, incremental_marts
from orchestration.jobs import JOBS
from orchestration.resources import dbt_resource
from orchestration.schedules import SCHEDULES
from orchestration.sensors import SENSORS

defs = Definitions(
    assets=[dbt_models, incremental_marts, downstream_models],
    jobs=JOBS,
    schedules=SCHEDULES,
    sensors=SENSORS,
    resources={"dbt": dbt_resource},
)
