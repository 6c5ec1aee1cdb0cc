"""The one dbt project Dagster loads."""

from __future__ import annotations

from dagster_dbt import DbtProject

from orchestration.db import PROJECT_ROOT
from orchestration.engine import target_dir_name
from orchestration.manifest import ensure_manifest

# TALLY_DBT_TARGET lets parallel checkouts/test runs keep separate dbt target dirs; the
# Spark engine has its own (orchestration/engine.py).
tally_project = DbtProject(
    project_dir=PROJECT_ROOT,
    profiles_dir=PROJECT_ROOT,
    target_path=target_dir_name(),
)
tally_project.prepare_if_dev()
# Importing the definitions from a fresh clone (pytest collection, `dagster dev -m ...`)
# must not need a hand-run `dbt parse`: parse once when the manifest is missing.
if not tally_project.manifest_path.exists():
    ensure_manifest()
