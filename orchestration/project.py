"""The one dbt project Dagster loads."""

from __future__ import annotations

import os

from dagster_dbt import DbtProject

from orchestration.db import PROJECT_ROOT

# TALLY_DBT_TARGET lets parallel checkouts/test runs keep separate dbt target dirs.
tally_project = DbtProject(
    project_dir=PROJECT_ROOT,
    profiles_dir=PROJECT_ROOT,
    target_path=os.environ.get("TALLY_DBT_TARGET", "target"),
)
tally_project.prepare_if_dev()
