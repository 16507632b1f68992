"""Fixtures every test package shares."""

from pathlib import Path

import pytest


@pytest.fixture
def data_dir() -> Path:
    """The real third-party files under tests/data (sources in tests/data/SOURCES.md)."""
    return Path(__file__).parent / "data"
