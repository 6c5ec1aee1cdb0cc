"""Asset keys, groups and one-line descriptions; owners, tags and schedules come from dbt."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dagster import AssetCheckSpec, AssetKey, AssetSpec, FreshnessPolicy
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from orchestration.health import mart_of


class TallyTranslator(DagsterDbtTranslator):
    """Key = [schema, name] (``marts/agg_order_daily``; every model of models/marts is keyed
    under ``marts``); group = domain folder; every mart
    carries a freshness policy from the same rules as `tally health` (fails after its
    `stale_after`: twice its refresh interval unless its yml's meta.tally says otherwise)."""

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if spec.description:
            spec = spec.replace_attributes(description=one_line_first(spec.description))
        source = manifest.get("sources", {}).get(unique_id)
        if source is not None and not (source.get("description") or "").strip():
            return spec.replace_attributes(description=source_description(source))
        node = manifest.get("nodes", {}).get(unique_id)
        if node is None or node.get("resource_type") != "model" or not is_mart(node):
            return spec
        if node.get("config", {}).get("materialized") == "view":
            return spec  # no rows of its own: its freshness is that of the tables it reads
        mart = mart_of(node)
        return spec.replace_attributes(
            freshness_policy=FreshnessPolicy.time_window(fail_window=mart.stale_after)
        )

    def get_asset_check_spec(
        self, asset_spec: AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> AssetCheckSpec | None:
        """dagster-dbt reads a check's description from the test's ``meta.description``
        only; Tally's are the test's ``description`` (singular tests:
        tests/dbt/_singular_tests.yml) or, for generic tests, one generated line."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=check_description(manifest["nodes"][unique_id]))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            schema = {"tally_ops": "ops", "tally_internal": "marts_internal"}.get(
                dbt_resource_props["source_name"], "raw"
            )
            return AssetKey([schema, dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "public"
        # a mart keeps its key when its table is internal (agg_order_running_totals: the
        # incremental mart; its public view is the model agg_order_running_totals_published)
        return AssetKey(
            ["marts" if is_mart(dbt_resource_props) else schema, dbt_resource_props["name"]]
        )

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "seed":
            return "reference"
        if resource_type == "source":
            return dbt_resource_props["source_name"].removeprefix("raw_").removeprefix("tally_")
        fqn = dbt_resource_props.get("fqn", [])
        # [project, layer, domain, model] -> domain
        return fqn[2] if len(fqn) > 3 else (fqn[1] if len(fqn) > 2 else "default")


def is_mart(node: Mapping[str, Any]) -> bool:
    """A model of the marts layer (models/marts/...), whichever schema holds its table."""
    fqn = node.get("fqn") or []
    return node.get("resource_type") == "model" and len(fqn) > 2 and fqn[1] == "marts"


_WARN_WHY = {
    # generic tests at severity warn, and why a warning is right for them
    "not_null": "such rows are left out of the marts and fail the raw-rules check; "
    "failing here would skip the staging models",
    "mart_not_stalled": "it warns from the first failed run; the stall fails `tally health` "
    "after one tick interval",
}


def one_line_first(description: str, limit: int = 200) -> str:
    """The description with a first line of at most ``limit`` characters (what the UI's
    lists show): a long first paragraph is split after its first sentence."""
    head, sep, rest = description.strip().partition("\n")
    if len(head) <= limit:
        return description
    for pattern in (r"(?<=\.)\s+", r"(?<=[;:])\s+"):
        parts = re.split(pattern, head, maxsplit=1)
        if len(parts) == 2 and len(parts[0]) <= limit:
            return parts[0] + "\n\n" + parts[1] + sep + rest
    return head[: limit - 3].rstrip() + "...\n\n" + head + sep + rest


def check_description(test: Mapping[str, Any]) -> str:
    """One line for a dbt test: its own ``description`` when it has one, else generated
    from the generic test and its arguments; a warn-level test says why it only warns."""
    text = (test.get("description") or "").strip().splitlines()
    if text:
        return text[0]
    meta = test.get("test_metadata") or {}
    kwargs = meta.get("kwargs") or {}
    kind = meta.get("name") or test.get("name", "test")
    attached = test.get("attached_node") or ""  # model.tally.x / source.tally.raw_x.table
    target = attached.split(".")[-1] or "its model"
    if attached.startswith("source."):
        target = f"raw.{target}"
    column = kwargs.get("column_name")
    if kind == "not_null":
        line = f"{column} is never NULL in {target}."
    elif kind == "unique":
        line = f"{column} is unique in {target}."
    elif kind == "accepted_values":
        values = ", ".join(map(str, kwargs.get("values") or []))
        line = f"{target}.{column} is one of: {values}."
    elif kind == "relationships":
        to = str(kwargs.get("to", "")).split("'")[1::2] or [kwargs.get("to")]
        line = f"Every {target}.{column} exists in {to[0]}.{kwargs.get('field')}."
    elif kind == "platform_grain_unique":
        line = f"One row of {target} per ({', '.join(kwargs.get('columns') or [])})."
    else:
        line = f"dbt test {kind} on {target}" + (f".{column}" if column else "") + "."
    if (test.get("config", {}).get("severity") or "").lower() == "warn":
        line += " Warning, not failure: " + _WARN_WHY.get(kind, "see the test's yml") + "."
    return line


def source_description(source: Mapping[str, Any]) -> str:
    return (
        f"Raw table {source.get('schema', 'raw')}.{source['name']} of the source application "
        f"({source['source_name']}; `tally datagen` fills it here): read by the marts, never "
        "written by them."
    )


# dbt tests on sources are asset checks of the raw source assets (raw/<table>): without
# this they ran in every build and were logged as AssetObservations with a warning each
translator = TallyTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True, enable_source_tests_as_checks=True
    )
)
