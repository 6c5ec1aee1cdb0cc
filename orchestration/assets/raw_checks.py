"""The asset check ``raw_indexes_present`` of every raw table with declared indexes or
statistics (orchestration/raw_contract.py): it fails, naming what is missing and
`tally db migrate`, while one is absent or invalid. Evaluated hourly (job
``raw_contract_check``, schedule ``raw_contract_check_hourly``) and by `tally run`, from
the same function (``raw_contract.missing``) as `tally health`'s ``raw-index`` rows."""

# No `from __future__ import annotations`: Dagster inspects the check's annotations.

import json

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    multi_asset_check,
)

from orchestration import raw_contract
from orchestration.project import tally_project
from orchestration.resources import TallyDatabase

CHECK_NAME = "raw_indexes_present"


def _raw_tables() -> list[str]:
    """Raw tables that are dbt sources (Dagster assets) and have declared objects."""
    manifest = json.loads(tally_project.manifest_path.read_text())
    declared = {o.table for o in raw_contract.objects()}
    return sorted(
        {
            s["name"]
            for s in manifest.get("sources", {}).values()
            if s.get("source_name", "").startswith("raw_") and s["name"] in declared
        }
    )


_TABLES = _raw_tables()


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            CHECK_NAME,
            asset=AssetKey(["raw", table]),
            description=f"raw.{table} has the indexes and statistics Tally's incremental "
            "reads need (orchestration/raw_contract.py); `tally db migrate` creates them.",
        )
        for table in _TABLES
    ],
    name=CHECK_NAME,
)
def raw_indexes_present(context: AssetCheckExecutionContext, tally_db: TallyDatabase):
    with tally_db.connect(autocommit=True) as conn:
        gaps = raw_contract.missing(conn, _TABLES)
    by_table: dict[str, list[str]] = {}
    for gap in gaps:
        by_table.setdefault(gap.obj.table, []).append(gap.line())
    for table in _TABLES:
        lines = by_table.get(table, [])
        yield AssetCheckResult(
            asset_key=AssetKey(["raw", table]),
            check_name=CHECK_NAME,
            passed=not lines,
            severity=AssetCheckSeverity.ERROR,
            description="; ".join(lines) if lines else "every declared index is present",
            metadata={"missing": [line.split(" is ")[0] for line in lines]},
        )
