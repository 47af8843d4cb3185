"""Golden outputs: what a person reads and what a program reads, for every bundled case.

Each bundled case's settlement under its own policy is kept in ``tests/golden/`` three ways:
the terminal tables in English and in Chinese (80 columns, as ``mediation settle`` prints
them) and the JSON body. They were read by eye when written; a change that alters them
shows here as a diff. After a deliberate change, regenerate them with

    MEDIATION_UPDATE_GOLDEN=1 pytest tests/test_golden.py

and read the diff before committing it. JSON numbers are compared to 1e-9 (relative), as
another machine's solver may place an optimum's last digits differently; the text is exact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import CASE_FILES, load, settle_checked
from rich.console import Console

from mediation.rendering import settlement_tables

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("MEDIATION_UPDATE_GOLDEN") == "1"
STEMS = [p.stem for p in CASE_FILES]


def terminal_text(stem: str, lang: str) -> str:
    """Return the settlement's tables as ``mediation settle`` prints them at 80 columns."""
    case = load(stem)
    with open(os.devnull, "w", encoding="utf-8") as sink:
        console = Console(width=80, record=True, file=sink)
        for part in settlement_tables(settle_checked(case), case, lang=lang):
            console.print(part)
    lines = console.export_text().splitlines()
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"


def json_body(stem: str) -> dict[str, Any]:
    """Return the settlement's body (no provenance: timings differ run to run)."""
    return settle_checked(load(stem)).body()


def _close(found: Any, expected: Any, path: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(found, dict):
        if set(found) != set(expected):
            return [f"{path}: keys {sorted(found)} != {sorted(expected)}"]
        return [d for k in expected for d in _close(found[k], expected[k], f"{path}.{k}")]
    if isinstance(expected, list) and isinstance(found, list):
        if len(found) != len(expected):
            return [f"{path}: {len(found)} items != {len(expected)}"]
        return [
            d
            for k, (f, e) in enumerate(zip(found, expected, strict=True))
            for d in _close(f, e, f"{path}[{k}]")
        ]
    if (
        isinstance(expected, float)
        and isinstance(found, int | float)
        and not isinstance(found, bool)
    ):
        return (
            []
            if found == pytest.approx(expected, rel=1e-9, abs=1e-12)
            else [f"{path}: {found} != {expected}"]
        )
    return [] if found == expected else [f"{path}: {found!r} != {expected!r}"]


def check(path: Path, text: str) -> None:
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"{path.name} is missing: run MEDIATION_UPDATE_GOLDEN=1 pytest {__file__}")
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert text == path.read_text(encoding="utf-8"), f"{path.name} changed"


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("stem", STEMS)
def test_the_tables_a_mediator_reads_are_unchanged(stem: str, lang: str) -> None:
    check(GOLDEN / f"{stem}.{lang}.txt", terminal_text(stem, lang))


@pytest.mark.parametrize("stem", STEMS)
def test_the_json_body_a_program_reads_is_unchanged(stem: str) -> None:
    path = GOLDEN / f"{stem}.json"
    body = json_body(stem)
    if UPDATE or not path.exists():
        check(path, json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        return
    assert _close(body, json.loads(path.read_text(encoding="utf-8"))) == []
