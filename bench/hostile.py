"""Write the large and hostile documents that input checks are measured on.

``python -m bench.hostile DIR`` writes them into ``DIR``:

- ``oversized.yaml`` / ``oversized.json``: a case one interest over ``MAX_INTERESTS``
  (5,000 parties x 200 issues, every interest present, plus one), which must be rejected
  early and cheaply;
- ``alias-bomb.yaml``: about 1 MB of YAML whose aliases repeat a 900,000-character string
  11,000 times (9.9 GB once expanded), under ``extensions``;
- ``large.yaml`` / ``large.json``: a valid case of 1,000 parties x 200 issues with every
  interest present (200,000 interests), the normal path that must stay fast.

Measure each with e.g. ``/usr/bin/time -v mediation validate DIR/oversized.yaml``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

from mediation.case.limits import MAX_INTERESTS

__all__ = ["alias_bomb", "complete_case", "write_all"]


def complete_case(parties: int, issues: int, *, extra: int = 0) -> dict[str, object]:
    """Return a case of ``parties`` x ``issues`` with every interest present.

    With ``extra``, add that many more interests of the first party in one more issue (so
    ``extra > 0`` repeats that pair).
    """
    interests = [
        {"stakeholder": f"p{s}", "issue": f"i{i}", "value": 1 + (s * 7 + i) % 10}
        for s in range(parties)
        for i in range(issues)
    ]
    interests += [{"stakeholder": "p0", "issue": f"i{issues}", "value": 1}] * extra
    return {
        "id": "large",
        "title": f"{parties} x {issues}",
        "stakeholders": [
            {"id": f"p{s}", "name": f"party {s}", "kind": "other"} for s in range(parties)
        ],
        "issues": [
            {"id": f"i{i}", "name": f"issue {i}", "kind": "resource", "amount": 100}
            for i in range(issues + (1 if extra else 0))
        ],
        "interests": interests,
    }


def _yaml_lines(doc: dict[str, object]) -> Iterator[str]:
    """Return a case document as block YAML with one flow mapping per line (as people write it)."""
    for key, value in doc.items():
        if isinstance(value, list):
            yield f"{key}:\n"
            for item in value:
                fields = ", ".join(f"{k}: {v}" for k, v in item.items())
                yield f"  - {{{fields}}}\n"
        else:
            yield f"{key}: {json.dumps(value, ensure_ascii=False)}\n"


def alias_bomb(length: int = 900_000, repeats: int = 11_000) -> str:
    """Return a valid case whose ``extensions`` repeat one string through aliases.

    The ``length``-character string is repeated ``repeats`` times: small as text,
    ``length * repeats`` characters once expanded.
    """
    refs = ", ".join(["*s"] * repeats)
    return (
        "id: bomb\ntitle: alias bomb\n"
        "stakeholders:\n  - {id: a, name: A, kind: other}\n  - {id: b, name: B, kind: other}\n"
        "issues:\n  - {id: x, name: X, kind: resource, amount: 1}\n"
        "interests:\n  - {stakeholder: a, issue: x, value: 1}\n"
        f"extensions:\n  seed: &s {'x' * length}\n  copies: [{refs}]\n"
    )


def write_all(folder: Path) -> list[Path]:
    """Write every document into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    oversized = complete_case(5_000, 200, extra=1)
    assert len(oversized["interests"]) == MAX_INTERESTS + 1  # type: ignore[arg-type]
    large = complete_case(1_000, 200)
    for name, doc in (("oversized", oversized), ("large", large)):
        path = folder / f"{name}.yaml"
        with path.open("w", encoding="utf-8") as out:
            out.writelines(_yaml_lines(doc))
        written.append(path)
        path = folder / f"{name}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        written.append(path)
    path = folder / "alias-bomb.yaml"
    path.write_text(alias_bomb(), encoding="utf-8")
    written.append(path)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m bench.hostile DIR")
    for written in write_all(Path(sys.argv[1])):
        print(f"{written}: {written.stat().st_size:,} bytes")
