"""dbt models as Dagster assets: the sliding-window marts (daily partitions) and the rest."""

# No `from __future__ import annotations`: Dagster reads the `config: IncrementalRunConfig`
# annotation of the asset function unresolved, so it must not be a string.

from collections.abc import Iterator

from dagster import AssetExecutionContext, BackfillPolicy, Config, Output
from dagster_dbt import DbtCliInvocation, DbtCliResource, dbt_assets

from orchestration.dbt_args import (
    SLIDING_WINDOW_TAG,
    RebuildScope,
    build_args,
    incremental_vars,
    run_vars,
    window_from_partition_range,
)
from orchestration.errors import TallyError
from orchestration.partition_status import day_materializations
from orchestration.partitions import daily_partitions
from orchestration.project import tally_project
from orchestration.resources import TallyDatabase
from orchestration.stall_checks import with_ref_checks
from orchestration.translator import translator


class IncrementalRunConfig(Config):
    """Launchpad config of a run of the incremental marts (empty = tick or backfill)."""

    rebuild_organization_id: int | None = None
    rebuild_account_id: int | None = None
    rebuild_campaign_id: int | None = None
    full_refresh: bool = False
    # support: with a partition range, backfill only this account's local days
    backfill_account_id: int | None = None
    # days the reconcile checks compare with raw (dbt var reconcile_days); None = the
    # project default. The 15-minute tick passes a short window (see schedules.py).
    reconcile_days: int | None = None

    def rebuild_scope(self) -> RebuildScope | None:
        if self.rebuild_organization_id is not None:
            return RebuildScope(
                "rebuild_organization_id",
                self.rebuild_organization_id,
                self.rebuild_campaign_id,
                self.full_refresh,
            )
        if self.rebuild_account_id is not None:
            return RebuildScope(
                "rebuild_account_id", self.rebuild_account_id, None, self.full_refresh
            )
        return None


def _vars(context: AssetExecutionContext, config: IncrementalRunConfig) -> dict:
    window = None
    if context.has_partition_key_range or context.has_partition_key:
        tw = context.partition_time_window
        window = window_from_partition_range(tw.start, tw.end)
    out = incremental_vars(window, config.rebuild_scope())
    if config.backfill_account_id is not None:
        if window is None:
            raise TallyError("backfill_account_id needs a partition range (--start/--end)")
        out["backfill_account_id"] = config.backfill_account_id
    if config.reconcile_days is not None:
        if config.reconcile_days < 1:
            raise TallyError(f"reconcile_days must be >= 1, got {config.reconcile_days}")
        out["reconcile_days"] = config.reconcile_days
    return out


@dbt_assets(
    manifest=with_ref_checks(tally_project.manifest_path),  # + the marts' stall checks
    project=tally_project,
    select=f"tag:{SLIDING_WINDOW_TAG}",
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    dagster_dbt_translator=translator,
    name="incremental_marts",
)
def incremental_marts(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    tally_db: TallyDatabase,
    config: IncrementalRunConfig,
):
    # the vars through the environment: dbt keeps its saved parse (see dbt_args.run_vars)
    with run_vars(_vars(context, config)):
        invocation = dbt.cli(build_args(), context=context)
    written = []
    for event in invocation.stream():
        if isinstance(event, Output):
            written.append(context.asset_key_for_output(event.output_name))
        yield event
    if context.has_partition_key_range or context.has_partition_key:
        return  # a partition-range run: Dagster records one materialization per day itself
    yield from day_events(tally_db, invocation, written, context.instance)


def day_events(
    tally_db: TallyDatabase, invocation: DbtCliInvocation, keys: list, instance
) -> Iterator:
    """Per-day materializations of the marts an unpartitioned run wrote (partition_status)."""
    invocation_id = invocation.get_artifact("run_results.json")["metadata"]["invocation_id"]
    with tally_db.connect() as conn:
        yield from day_materializations(conn, keys, invocation_id, instance)


# Everything upstream of the incremental marts (seeds, staging, intermediate, full-table
# marts). Split from `downstream_models` so that no multi-asset sits on both sides of
# `incremental_marts`: Dagster would otherwise split it into several steps and run
# some of its checks before their models exist.
@dbt_assets(
    manifest=tally_project.manifest_path,
    project=tally_project,
    exclude=f"tag:{SLIDING_WINDOW_TAG}+",
    dagster_dbt_translator=translator,
    name="dbt_models",
)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(build_args(), context=context).stream()


# Everything built from the incremental marts (rollups of rollups, materialized views).
@dbt_assets(
    manifest=tally_project.manifest_path,
    project=tally_project,
    select=f"tag:{SLIDING_WINDOW_TAG}+",
    exclude=f"tag:{SLIDING_WINDOW_TAG}",
    dagster_dbt_translator=translator,
    name="downstream_models",
)
def downstream_models(context: AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(build_args(), context=context).stream()
