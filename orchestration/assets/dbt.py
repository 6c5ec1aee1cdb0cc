"""dbt models as Dagster assets: the sliding-window marts (daily partitions) and the rest."""

# No `from __future__ import annotations`: Dagster reads the `config: IncrementalRunConfig`
# annotation of the asset function unresolved, so it must not be a string.

from dagster import AssetExecutionContext, BackfillPolicy, Config, Failure, Output
from dagster_dbt import DbtCliResource, dbt_assets
from pydantic import Field

from orchestration.dbt_args import (
    DOWNSTREAM_TAG,
    SLIDING_WINDOW_TAG,
    RebuildScope,
    build_args,
    incremental_vars,
    run_vars,
    window_from_partition_range,
)
from orchestration.errors import TallyError
from orchestration.partition_status import dbt_invocation_id, mark_days
from orchestration.partitions import daily_partitions
from orchestration.project import tally_project
from orchestration.resources import TallyDatabase
from orchestration.stall_checks import with_ref_checks
from orchestration.translator import translator


class IncrementalRunConfig(Config):
    """Launchpad config of a run of the incremental marts. Empty: a tick (unpartitioned)
    or a backfill of the picked days (a partition range)."""

    rebuild_organization_id: int | None = Field(
        default=None,
        description="orders: rebuild this organization's whole history (raw.organizations.id); "
        "prefer the orders_rebuild job, which also queues, dedups and audits",
    )
    rebuild_campaign_id: int | None = Field(
        default=None, description="orders: with rebuild_organization_id, only this campaign"
    )
    rebuild_account_id: int | None = Field(
        default=None,
        description="support: rebuild this account's whole history in its current timezone "
        "(raw.accounts.id); what the timezone sensor launches",
    )
    full_refresh: bool = Field(
        default=False,
        description="with a rebuild: also delete the scope's rows the rebuild did not write",
    )
    backfill_account_id: int | None = Field(
        default=None,
        description="support: with a partition range, backfill only this account's local days "
        "(checked, diffed and audited like `tally backfill --domain support --account N`)",
    )
    reconcile_days: int | None = Field(
        default=None,
        description="days the reconcile checks compare with raw (dbt var reconcile_days); "
        "empty = the project default; the 15-minute tick passes a short window",
    )
    requested_by: str = Field(
        default="launchpad", description="who asks; written to ops.audit_entries"
    )

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


def _window(context: AssetExecutionContext):
    if context.has_partition_key_range or context.has_partition_key:
        tw = context.partition_time_window
        return window_from_partition_range(tw.start, tw.end)
    return None


UNMODELLED_SOURCES = "source:raw_support.agents+ source:raw_support.inboxes+"


def _vars(context: AssetExecutionContext, config: IncrementalRunConfig) -> dict:
    window = _window(context)
    out = incremental_vars(window, config.rebuild_scope())
    if config.backfill_account_id is not None:
        out["backfill_account_id"] = config.backfill_account_id
    if config.reconcile_days is not None:
        out["reconcile_days"] = config.reconcile_days
    return out


def validate(context: AssetExecutionContext, config: IncrementalRunConfig, tally_db: TallyDatabase):
    """Check the run's config against the database before dbt starts (every launcher:
    CLI, Launchpad, GraphQL, sensors). Returns the support backfill to audit, if any;
    raises a one-line TallyError otherwise."""
    from orchestration.orders.requests import validate_scope
    from orchestration.support.backfill import check_account, prepare

    rebuilds = [config.rebuild_organization_id, config.rebuild_account_id]
    if sum(v is not None for v in [*rebuilds, config.backfill_account_id]) > 1:
        raise TallyError(
            "give one of rebuild_organization_id, rebuild_account_id and backfill_account_id"
        )
    if config.rebuild_campaign_id is not None and config.rebuild_organization_id is None:
        raise TallyError("rebuild_campaign_id needs rebuild_organization_id (its organization)")
    if config.full_refresh and all(v is None for v in rebuilds):
        raise TallyError(
            "full_refresh applies to a rebuild: give rebuild_organization_id or "
            "rebuild_account_id, or leave full_refresh false"
        )
    if config.reconcile_days is not None and config.reconcile_days < 1:
        raise TallyError(f"reconcile_days must be >= 1, got {config.reconcile_days}")
    window = _window(context)
    if config.backfill_account_id is not None and window is None:
        raise TallyError("backfill_account_id needs a partition range (--start/--end)")
    if window is not None and any(v is not None for v in rebuilds):
        raise TallyError(
            "a run is either a backfill window or a rebuild, not both: "
            "launch the rebuild without a partition"
        )
    with tally_db.connect() as conn:
        if config.rebuild_organization_id is not None:
            validate_scope(conn, config.rebuild_organization_id, config.rebuild_campaign_id)
        if config.rebuild_account_id is not None:
            check_account(conn, config.rebuild_account_id)
        if config.backfill_account_id is not None:
            first, last = window
            return prepare(conn, config.backfill_account_id, first.isoformat(), last.isoformat())
    return None


@dbt_assets(
    manifest=with_ref_checks(tally_project.manifest_path),  # + the marts' stall checks
    project=tally_project,
    select=f"tag:{SLIDING_WINDOW_TAG}",
    # a test that reads a mart and a model downstream of it (the platform daily/weekly vs
    # hourly reconciles) is a check of the downstream model: dbt's eager selection would
    # also run it here, where dagster-dbt logs it as an observation with a warning. An
    # exclude drops every test with an excluded parent.
    exclude=f"tag:{DOWNSTREAM_TAG}",
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
    try:
        backfill = validate(context, config, tally_db)
    except TallyError as exc:  # the same one line as the CLI, as the run's failure reason
        raise Failure(description=str(exc), allow_retries=False) from None
    # the vars through the environment: dbt keeps its saved parse (see dbt_args.run_vars)
    written = []
    invocation_id = None
    try:
        with run_vars(_vars(context, config)):
            for event in dbt.cli(build_args(), context=context).stream():
                if isinstance(event, Output):
                    written.append(context.asset_key_for_output(event.output_name))
                    invocation_id = dbt_invocation_id(event)
                yield event
    except BaseException:
        # a failed model or check raises after the stream: the marts that committed are
        # still audited and their days marked
        if written:
            _after_dbt(context, tally_db, config, backfill, invocation_id, written, failing=True)
        raise
    if written:
        _after_dbt(context, tally_db, config, backfill, invocation_id, written, failing=False)


def _after_dbt(context, tally_db, config, backfill, invocation_id, written, *, failing) -> None:
    if backfill is not None:
        with tally_db.connect() as conn:
            backfill.audit(conn, config.requested_by, context.run_id)
    # a partition-range run: Dagster records one materialization per day itself
    if not (context.has_partition_key_range or context.has_partition_key):
        mark_days(context, tally_db, invocation_id, written, failing=failing)


# Everything upstream of the incremental marts (seeds, staging, intermediate, full-table
# marts). Split from `downstream_models` so that no multi-asset sits on both sides of
# `incremental_marts`: Dagster would otherwise split it into several steps and run
# some of its checks before their models exist.
@dbt_assets(
    manifest=tally_project.manifest_path,
    project=tally_project,
    # raw.agents and raw.inboxes feed no model (the support reader lists members from
    # them): their source tests would be logged as observations of no asset, so they run
    # in `tally dbt -- build` only
    exclude=f"tag:{SLIDING_WINDOW_TAG}+ {UNMODELLED_SOURCES}",
    dagster_dbt_translator=translator,
    name="dbt_models",
)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(build_args(), context=context).stream()


# Everything built from the incremental marts (rollups of rollups, materialized views),
# selected by their tag and no exclude: `tag:sliding_window+ --exclude tag:sliding_window`
# would drop the tests that read a downstream model and a mart (an exclude drops every
# test with an excluded parent). tests/test_dagster.py checks the tag covers
# `tag:sliding_window+`.
@dbt_assets(
    manifest=tally_project.manifest_path,
    project=tally_project,
    select=f"tag:{DOWNSTREAM_TAG}",
    dagster_dbt_translator=translator,
    name="downstream_models",
)
def downstream_models(context: AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(build_args(), context=context).stream()
