"""Resources: the dbt CLI, pointed at the venv's dbt and the project's profiles."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource

from orchestration.project import tally_project


def dbt_executable() -> str:
    """The dbt next to this Python (the venv's), else the one on PATH."""
    for candidate in (Path(sys.executable).parent / "dbt", Path(sys.prefix) / "bin" / "dbt"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


dbt_resource = DbtCliResource(project_dir=tally_project, dbt_executable=dbt_executable())
