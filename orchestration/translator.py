"""Asset keys and groups only; owners, tags and schedules come from dbt."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey, AssetSpec, FreshnessPolicy
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from orchestration.health import marts_from_manifest


class TallyTranslator(DagsterDbtTranslator):
    """Key = [schema, name] (``marts/agg_order_daily``); group = domain folder; every mart
    carries a freshness policy from the same rules as `tally health` (fails after its
    `stale_after`: twice its refresh interval unless its yml's meta.tally says otherwise)."""

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest.get("nodes", {}).get(unique_id)
        if node is None or node.get("resource_type") != "model" or node.get("schema") != "marts":
            return spec
        (mart,) = marts_from_manifest({"nodes": {unique_id: node}})
        return spec.replace_attributes(
            freshness_policy=FreshnessPolicy.time_window(fail_window=mart.stale_after)
        )

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey(["raw", dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "public"
        return AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "seed":
            return "reference"
        if resource_type == "source":
            return dbt_resource_props["source_name"].removeprefix("raw_")
        fqn = dbt_resource_props.get("fqn", [])
        # [project, layer, domain, model] -> domain
        return fqn[2] if len(fqn) > 3 else (fqn[1] if len(fqn) > 2 else "default")


translator = TallyTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
