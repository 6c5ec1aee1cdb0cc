"""The cross-domain jobs (every dbt asset once; the tick). Each domain's jobs live in its own
package; orchestration/definitions.py merges them."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

from orchestration.assets.dbt import dbt_models, downstream_models, incremental_marts
from orchestration.assets.raw_checks import raw_indexes_present
from orchestration.runs import queue_tags

# Everything once (tally run). Unpartitioned: the incremental marts run as a tick
# (their first run is a full build).
materialize_all = define_asset_job(
    "materialize_all",
    selection=AssetSelection.assets(dbt_models, incremental_marts, downstream_models)
    | AssetSelection.checks(raw_indexes_present),
    description="Materialize every dbt asset once (seeds, staging, marts, checks).",
    tags=queue_tags("materialize_all"),
    # its three dbt steps run one after the other: a process per step only reloads the
    # definitions (~3 s each) - see docs/benchmarks.md, "The production tick"
    executor_def=in_process_executor,
)

# The raw tables' `raw_indexes_present` checks (orchestration/raw_contract.py), hourly and
# in `tally run`: not in the tick - one stored evaluation per raw table is ~0.05 s each
# (~0.8 s of a tick for 16 tables) for a state that changes only when someone drops an index.
raw_contract_check = define_asset_job(
    "raw_contract_check",
    selection=AssetSelection.checks(raw_indexes_present),
    description="Are the raw indexes and statistics Tally's reads need there? (`tally db migrate`)",
)

# One sliding-window tick of every incremental mart (unpartitioned run), or, launched
# for a partition range, a single-run backfill of exactly those local days.
tick = define_asset_job(
    "tick",
    selection=AssetSelection.assets(incremental_marts),
    description="Sliding-window refresh of every incremental mart; with a partition range, a backfill.",
    tags=queue_tags("tick"),
    # one step (one dbt invocation): run it in the run worker, not in a second process
    # that loads the definitions again
    executor_def=in_process_executor,
)
