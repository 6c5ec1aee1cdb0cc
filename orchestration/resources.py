"""Resources: the dbt CLI (the venv's dbt, the project's profiles) and the database.

Both are injected into assets, ops and sensors by name (``dbt``, ``tally_db``); the
database resource never starts a server (a sensor tick or a run must not).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import psycopg
from dagster import ConfigurableResource
from dagster_dbt import DagsterDbtTranslator, DbtCliInvocation, DbtCliResource
from dagster_dbt.asset_utils import (
    DBT_INDIRECT_SELECTION_ENV,
    extract_runtime_selection_from_args,
    get_updated_cli_invocation_params_for_context,
)
from dagster_dbt.dagster_dbt_translator import validate_opt_translator
from dagster_dbt.dbt_manifest import validate_manifest
from packaging import version

from orchestration.dbt_in_process import InProcessDbt, copy_saved_parse
from orchestration.manifest import current_saved_parse
from orchestration.project import tally_project

logger = logging.getLogger("dagster_dbt")


def dbt_executable() -> str:
    """The dbt next to this Python (the venv's), else the one on PATH."""
    for candidate in (Path(sys.executable).parent / "dbt", Path(sys.prefix) / "bin" / "dbt"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


class TallyDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI without three start-up costs it pays on every invocation.

    * It starts dbt as a subprocess (a second Python importing dbt and its adapter,
      ~2-2.5 s): `cli()` runs the same invocation on a thread of this process instead
      (orchestration/dbt_in_process.py).
    * It asks the dbt executable for its version (`dbt --version`, a second dbt process,
      ~1.5-2.5 s of imports): the venv's dbt is the installed dbt-core, read from its
      package metadata instead.
    * It opens a dbt adapter in Dagster's process (imports dbt, loads the project and
      profile, ~1-2 s) only for `fetch_row_counts()` / `fetch_column_metadata()`, which
      Tally's assets do not use.
    """

    def cli(
        self,
        args: Sequence[str],
        *,
        raise_on_error: bool = True,
        manifest: Any = None,
        dagster_dbt_translator: DagsterDbtTranslator | None = None,
        context: Any = None,
        target_path: Path | None = None,
    ) -> DbtCliInvocation:
        """dagster-dbt 0.29's `DbtCliResource.cli`, step for step, with `InProcessDbt`
        where it starts the subprocess."""
        translator = validate_opt_translator(dagster_dbt_translator) or DagsterDbtTranslator()
        manifest = validate_manifest(manifest) if manifest else {}
        cleaned, selects, excludes = extract_runtime_selection_from_args(args)
        params = get_updated_cli_invocation_params_for_context(
            context=context,
            manifest=manifest,
            dagster_dbt_translator=translator,
            runtime_selects=selects,
            runtime_excludes=excludes,
        )
        target_path = target_path or self._get_unique_target_path(context=context)
        project_dir = Path(
            params.dbt_project.project_dir if params.dbt_project else self.project_dir
        )
        env = {
            **os.environ,
            "DAGSTER_DBT_CLI": "true",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_LOG_FORMAT": "json",
            "DBT_TARGET_PATH": os.fspath(target_path),
            "DBT_LOG_PATH": os.fspath(target_path),
            **({"DBT_PROFILES_DIR": self.profiles_dir} if self.profiles_dir else {}),
            "DBT_PROJECT_DIR": str(project_dir),
        }
        if params.indirect_selection:
            env[DBT_INDIRECT_SELECTION_ENV] = params.indirect_selection
        profile_args = ["--profile", self.profile] if self.profile else []
        if self.target:
            profile_args += ["--target", self.target]
        full_args = [
            self.dbt_executable,
            *self.global_config_flags,
            *cleaned,
            *profile_args,
            *params.selection_args,
        ]
        if not target_path.is_absolute():
            target_path = project_dir / target_path
        saved = Path(os.getenv("DBT_TARGET_PATH", "target"))
        saved = saved if saved.is_absolute() else project_dir / saved
        copy_saved_parse(target_path, saved)
        invocation = DbtCliInvocation(
            process=InProcessDbt(full_args, env, preload=current_saved_parse(saved)),  # type: ignore[arg-type]
            manifest=params.manifest,
            project=params.dbt_project,
            dagster_dbt_translator=params.dagster_dbt_translator,
            project_dir=project_dir,
            target_path=target_path,
            raise_on_error=raise_on_error,
            context=context,
            adapter=None,
            cli_version=self._cli_version,
        )
        logger.info("Running dbt in process: `%s`.", invocation.dbt_command)
        return invocation

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
