"""Shared fixtures: the bundled cases and Hypothesis settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "cases"
CASE_FILES = sorted(p for p in CASES_DIR.iterdir() if p.suffix in {".yaml", ".yml", ".json"})

settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("default")


@pytest.fixture(params=CASE_FILES, ids=[p.stem for p in CASE_FILES])
def case_path(request: pytest.FixtureRequest) -> Path:
    """Each bundled case file in turn."""
    path: Path = request.param
    return path
