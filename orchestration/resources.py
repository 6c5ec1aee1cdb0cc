"""Resources: the dbt CLI, pointed at the venv's dbt and the project's profiles."""

from __future__ import annotations

import shutil
import sys
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.project import tally_project


def dbt_executable() -> str:
    """The dbt next to this Python (the venv's), else the one on PATH."""
    for candidate in (Path(sys.executable).parent / "dbt", Path(sys.prefix) / "bin" / "dbt"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


class TallyDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI without two start-up costs it pays on every invocation.

    * It asks the dbt executable for its version (`dbt --version`, a second dbt process,
      ~1.5-2.5 s of imports): the venv's dbt is the installed dbt-core, read from its
      package metadata instead.
    * It opens a dbt adapter in Dagster's process (imports dbt, loads the project and
      profile, ~1-2 s) only for `fetch_row_counts()` / `fetch_column_metadata()`, which
      Tally's assets do not use.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(installed_version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args):
        return None


dbt_resource = TallyDbtCliResource(project_dir=tally_project, dbt_executable=dbt_executable())
