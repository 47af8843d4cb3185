"""The JSON Schema of the case format, generated from the case's models."""

from __future__ import annotations

from typing import Any

from .model import Case

__all__ = ["case_json_schema"]


def case_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of the case format, as a mapping.

    The schema states types, ranges and required keys; cross-field rules (ids that must
    exist, floors that must fit) are checked by :func:`parse_case` and described in
    ``cases/README.md``.
    """
    schema = Case.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/mediation-engine/mediation/case.schema.json"
    return schema
