"""Resources: the dbt CLI (the venv's dbt, the project's profiles) and the database.

Both are injected into assets, ops and sensors by name (``dbt``, ``tally_db``); the
database resource never starts a server (a sensor tick or a run must not).
"""

from __future__ import annotations

import shutil
import sys
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

import psycopg
from dagster import ConfigurableResource
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


class TallyDatabase(ConfigurableResource):
    """The Tally PostgreSQL: ``url`` or else ``TALLY_DATABASE_URL`` / the running embedded
    server. Never starts a server."""

    url: str | None = None

    def resolved_url(self) -> str:
        from orchestration.db import database

        return self.url or database(start=False, check=False).url

    def connect(self, *, autocommit: bool = True) -> psycopg.Connection:
        from orchestration.db import connect

        return connect(self.resolved_url(), autocommit=autocommit)


dbt_resource = TallyDbtCliResource(project_dir=tally_project, dbt_executable=dbt_executable())
tally_db_resource = TallyDatabase()
RESOURCES = {"dbt": dbt_resource, "tally_db": tally_db_resource}
