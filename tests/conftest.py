"""Shared test configuration: hypothesis profile, paths to the third-party recordings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "myoflow",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "myoflow"))

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The folder of real third-party recordings beside the checkout; skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"third-party recordings not found at {SHARED_DATA} (../shared/data)")
    return SHARED_DATA
