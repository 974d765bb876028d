"""The project file's JSON Schema (infra/projects/request.schema.json), generated from the
pydantic models (config.schema) so that editors and CI check the same rules the CLI does.

`dsplatform request schema` writes it; a test keeps the committed file equal to this output.
"""

from __future__ import annotations

import json
from typing import Any

from dsplatform.infra.config.schema import EnvironmentSettings, ProjectFile
from dsplatform.vocabulary import ENVIRONMENTS, REQUIRED_ENVIRONMENTS


def _without_required(schema: Any) -> Any:
    """Overrides are partial: every key of an environment may be left to its default."""
    if isinstance(schema, dict):
        return {key: _without_required(item) for key, item in schema.items() if key != "required"}
    if isinstance(schema, list):
        return [_without_required(item) for item in schema]
    return schema


def request_json_schema() -> dict[str, Any]:
    """The project file's JSON Schema, for editors (yaml-language-server) and CI.

    Generated from the pydantic models, with `environments.<env>` described by the
    per-environment settings (all optional), which the models keep as raw mappings so
    that defaults can be merged first."""
    schema = ProjectFile.model_json_schema()
    overrides = _without_required(EnvironmentSettings.model_json_schema())
    definitions = schema.setdefault("$defs", {})
    override_definitions = overrides.pop("$defs", {})
    renamed = {name: f"{name}Override" for name in override_definitions}

    def renamed_refs(value: Any) -> Any:
        # Inside the partial definitions too (AksSettingsOverride refers to NodePoolOverride),
        # or an editor meets a reference to a definition the schema does not have.
        text = json.dumps(value)
        for name, new_name in renamed.items():
            text = text.replace(f'"#/$defs/{name}"', f'"#/$defs/{new_name}"')
        return json.loads(text)

    for name, definition in renamed_refs(override_definitions).items():
        definitions.setdefault(renamed[name], definition)
    overrides = renamed_refs(overrides)
    overrides["title"] = "EnvironmentOverrides"
    definitions["EnvironmentOverrides"] = overrides
    schema["properties"]["environments"] = {
        "description": schema["properties"]["environments"].get("description", ""),
        "type": "object",
        "properties": {
            environment: {"anyOf": [{"$ref": "#/$defs/EnvironmentOverrides"}, {"type": "null"}]} for environment in ENVIRONMENTS
        },
        "additionalProperties": False,
    }
    # A project needs dev and prod; an exploration needs an end date and never has prod.
    schema["allOf"] = [
        {
            "if": {"properties": {"kind": {"const": "exploration"}}, "required": ["kind"]},
            "then": {"required": ["end_date"], "properties": {"environments": {"not": {"required": ["prod"]}}}},
            "else": {
                "properties": {
                    "environments": {"required": list(REQUIRED_ENVIRONMENTS)},
                    "tags": {"required": ["owner", "cost_center", "data_classification"]},
                }
            },
        }
    ]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dsplatform project request (infra/projects/<project>.yaml)"
    return schema
