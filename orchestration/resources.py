"""Resources: the dbt CLI (the venv's dbt, the project's profiles) and the database.

Both are injected into assets, ops and sensors by name (``dbt``, ``tally_db``); the
database resource never starts a server (a sensor tick or a run must not).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import psycopg
from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource

from orchestration.project import tally_project


def dbt_executable() -> str:
    """The dbt next to this Python (the venv's), else the one on PATH."""
    for candidate in (Path(sys.executable).parent / "dbt", Path(sys.prefix) / "bin" / "dbt"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


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


dbt_resource = DbtCliResource(project_dir=tally_project, dbt_executable=dbt_executable())
tally_db_resource = TallyDatabase()
RESOURCES = {"dbt": dbt_resource, "tally_db": tally_db_resource}
