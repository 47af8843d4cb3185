"""Size limits on case documents: generous for real cases, bounded for the service's sake."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "MAX_CONSTRAINTS",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_EXPANDED_TEXT",
    "MAX_INTERESTS",
    "MAX_ISSUES",
    "MAX_NODES",
    "MAX_RELATIONS",
    "MAX_STAKEHOLDERS",
    "MAX_TERMS",
    "MAX_TEXT",
    "SECTION_LIMITS",
]

#: Parties in one case. The benchmarks use 1,000.
MAX_STAKEHOLDERS = 5_000
#: Issues (resources and risks) in one case. The benchmarks use 200.
MAX_ISSUES = 1_000
#: Interest edges; 1,000 parties x 200 issues with every edge present is 200,000.
MAX_INTERESTS = 1_000_000
#: Relation edges between parties.
MAX_RELATIONS = 200_000
#: Extra linear constraints.
MAX_CONSTRAINTS = 10_000
#: Terms summed over all extra constraints.
MAX_TERMS = 1_000_000
#: Characters in one text field (a name, a title, a description).
MAX_TEXT = 10_000
#: Nesting depth of the document (a valid case needs 6).
MAX_DEPTH = 32
#: Values (mappings, lists and scalars) in the parsed document, counting repeats of a YAML alias.
MAX_NODES = 20_000_000
#: Bytes of a case document given as text.
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
#: Characters of text (keys and strings) in the parsed document, counting every repeat of a
#: YAML alias: no more than a document of ``MAX_DOCUMENT_BYTES`` could spell out, so that an
#: alias repeating a long string is refused before anything (the case's digest, its JSON)
#: writes the repeats out.
MAX_EXPANDED_TEXT = MAX_DOCUMENT_BYTES

#: The most items each list at the top of a case may hold.
SECTION_LIMITS: Mapping[str, int] = MappingProxyType(
    {
        "stakeholders": MAX_STAKEHOLDERS,
        "issues": MAX_ISSUES,
        "interests": MAX_INTERESTS,
        "relations": MAX_RELATIONS,
        "constraints": MAX_CONSTRAINTS,
    }
)
