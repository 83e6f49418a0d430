"""The spec's JSON Schema, derived from the pydantic model (so it can never drift from validation)."""

from __future__ import annotations

from typing import Any

from scaffold.spec.model import Spec


def spec_json_schema() -> dict[str, Any]:
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
